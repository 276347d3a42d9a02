"""Training the method: from a config to a run directory. `build` assembles environment,
agent and trainer; `loop.run` drives the trainer's jitted chunks; `outputs` writes what a run
writes (through `run_dir`, `logger`, `checkpoint`, `provenance`, `recording`); `policy` and
`saved_run` read a run back."""
