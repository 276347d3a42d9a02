"""The commands around training: `evaluate` (MJX and Gymnasium), `report` (tables and curves),
`render` (a rollout page or video), `bench` and `device_suite` (throughput, measured by
`measure`), and the 2-D bandit study (`bandit2d`). Each runs as `python -m mjx_nclql.<name>`."""
