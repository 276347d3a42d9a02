"""`docs/campaign/run.sh`: which command each campaign run gets, checked with a stand-in for
Python that records its arguments (nothing is trained or compiled)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "docs", "campaign", "run.sh")

# Records `-m MODULE ARGS...`; a new training run gets its run directory as `train` makes it.
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> calls.txt
if [ "$2" = mjx_nclql.train ]; then
  for a in "$@"; do
    case $a in run_dir=*) d=${a#run_dir=}; mkdir -p "$d/checkpoints"; : > "$d/config.yaml";; esac
  done
  exit "${TRAIN_RC:-0}"
fi
"""


def campaign(tmp_path, *names: str, train_rc: int = 0) -> tuple[int, list[str], str]:
    """(exit code, the recorded calls, stderr) of one script run in `tmp_path`."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    (tmp_path / "calls.txt").write_text("")
    env = {**os.environ, "PYTHON": str(fake), "TRAIN_RC": str(train_rc)}
    proc = subprocess.run(
        ["bash", SCRIPT, *names], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    return proc.returncode, (tmp_path / "calls.txt").read_text().splitlines(), proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_campaign_script_starts_resumes_skips_and_stops(tmp_path) -> None:
    rc, calls, _ = campaign(tmp_path, "hopper-lql")
    assert rc == 0
    assert calls == [
        "-m mjx_nclql.train env=hopper algo=lql num_seeds=3 train.total_steps=50000 "
        "train.eval_every=12500 train.checkpoint_every=12500 train.keep_checkpoints=10 "
        "train.chunk_iters=500 log.wandb_mode=disabled log.progress=false "
        "run_dir=runs/hopper-lql-3seeds",
        "-m mjx_nclql.evaluate runs/hopper-lql-3seeds --all --skip-evaluated",
        "-m mjx_nclql.report docs/runs/hopper-lql-3seeds --out docs/campaign/results.md",
    ]
    assert sorted(os.listdir(tmp_path / "docs/runs/hopper-lql-3seeds")) == ["config.yaml"]
    # Again: the run is there, unfinished, so it is resumed.
    rc, calls, _ = campaign(tmp_path, "hopper-lql")
    assert rc == 0 and calls[0] == "-m mjx_nclql.train resume=runs/hopper-lql-3seeds"
    # Its metrics reach the last chunk: no training, only what evaluation is missing.
    (tmp_path / "runs/hopper-lql-3seeds/metrics.jsonl").write_text(
        '{"kind": "train", "chunk": 32, "post_warmup_steps": 50000, "updates": 10000}\n'
    )
    rc, calls, _ = campaign(tmp_path, "hopper-lql")
    assert rc == 0 and calls[0].startswith("-m mjx_nclql.evaluate") and len(calls) == 2
    # A stopped training (Ctrl-C: the trainer checkpoints and exits 130) stops the script.
    rc, calls, _ = campaign(tmp_path, "walker2d-nclql", "ant-nclql", train_rc=130)
    assert rc == 130 and len(calls) == 1 and "env=walker2d " in calls[0]
    # A misspelt name is refused before anything runs.
    rc, calls, err = campaign(tmp_path, "ant-nclql", "walker")
    assert rc == 2 and calls == [] and "unknown run 'walker'; choose from: hopper-nclql" in err
