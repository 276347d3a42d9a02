"""One module per Gymnasium MuJoCo -v4 task."""
