"""`python -m mjx_nclql.evaluate`: the same policy on the MJX task and in Gymnasium (MuJoCo C)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from train_fixtures import hopper_config

from mjx_nclql.evaluate import EVAL_FILE, main
from mjx_nclql.train import run


def _snapshot(run_dir: str) -> dict[str, tuple[int, float]]:
    """Every file under the run dir with its size and modification time."""
    out = {}
    for root, _, files in os.walk(run_dir):
        for name in files:
            path = os.path.join(root, name)
            st = os.stat(path)
            out[os.path.relpath(path, run_dir)] = (st.st_size, st.st_mtime_ns)
    return out


def test_bad_input_is_a_clear_error_and_changes_nothing(reference, tmp_path, capsys) -> None:
    run_dir = reference.run_dir
    before = _snapshot(run_dir)
    cases = [
        ([str(tmp_path / "nope")], "no such run directory"),
        ([str(tmp_path)], "not a readable run"),
        ([run_dir, "--step", "5"], "available: [4, 6, 8]"),
        ([run_dir, "--seeds", "2"], "out of range: the run has 2 seed(s)"),
        ([run_dir, "--seeds", "a"], "comma-separated integers"),
        ([run_dir, "--episodes", "0"], "--episodes must be >= 1"),
        ([run_dir], "Gymnasium has no counterpart of env 'probe_two_step'"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, (argv, message)
    assert _snapshot(run_dir) == before  # not even eval.json
    # A run directory whose checkpoints are gone.
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("checkpoints"))
    assert main([str(bare), "--simulator", "mjx"]) == 2
    assert "no checkpoints/ directory" in capsys.readouterr().err
    # The module's own entry point: message and exit code.
    proc = subprocess.run([sys.executable, "-m", "mjx_nclql.evaluate", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no such run directory" in proc.stderr


def test_all_checkpoints_on_mjx_are_written_to_eval_json(reference, tmp_path) -> None:
    """--all evaluates every kept checkpoint per seed; eval.json gains one entry each and a
    rerun of the same setting replaces its entry instead of appending."""
    run_dir = str(tmp_path / "copy")
    shutil.copytree(reference.run_dir, run_dir)
    before = _snapshot(run_dir)
    assert main([run_dir, "--all", "--simulator", "mjx", "--episodes", "4"]) == 0
    after = _snapshot(run_dir)
    assert set(after) - set(before) == {EVAL_FILE}
    assert all(after[k] == v for k, v in before.items())
    with open(os.path.join(run_dir, EVAL_FILE)) as f:
        record = json.load(f)
    evals = record["evaluations"]
    assert [e["step"] for e in evals] == [4, 6, 8]
    assert [e["post_warmup_steps"] for e in evals] == [80, 160, 240]
    assert [e["updates"] for e in evals] == [20, 40, 60]
    for e in evals:
        assert [r["seed_index"] for r in e["seeds"]] == [0, 1]
        for r in e["seeds"]:
            m = r["mjx"]
            assert m["n"] == 4 and m["length_mean"] == 2.0  # the two-step probe
            assert "gymnasium" not in r and np.isfinite(m["return_mean"])
    # The newest checkpoint's returns on the probe match the trainer's own last evaluation
    # to within the spread of a 4-episode sample (the probe's best return is 2).
    assert all(r["mjx"]["return_mean"] <= 2.0 + 1e-6 for r in evals[-1]["seeds"])
    assert main([run_dir, "--simulator", "mjx", "--episodes", "4"]) == 0
    with open(os.path.join(run_dir, EVAL_FILE)) as f:
        assert len(json.load(f)["evaluations"]) == 3


@pytest.mark.slow
def test_hopper_policy_has_the_same_return_in_mjx_and_gymnasium(tmp_path) -> None:
    """A Hopper run stopped after its first chunk (checkpointed, as an interrupted run is),
    then its policy (the run's sampler on its critics) on both simulators: 24 episodes each,
    100-step episodes; the mean returns must agree within 4 standard errors of their
    difference. Only the warm-up chunk and the evaluation are compiled."""
    cfg = hopper_config(str(tmp_path / "hopper"))
    result = run(cfg, max_chunks=1)
    assert result.status == "interrupted"
    assert main([cfg.run_dir, "--episodes", "24"]) == 0
    with open(os.path.join(cfg.run_dir, EVAL_FILE)) as f:
        record = json.load(f)
    assert record["gym_id"] == "Hopper-v4"
    (entry,) = record["evaluations"]
    (row,) = entry["seeds"]
    mjx, gym, diff = row["mjx"], row["gymnasium"], row["difference"]
    print(f"hopper mjx {mjx['return_mean']:.2f} +- {mjx['return_stderr']:.2f}, gymnasium "
          f"{gym['return_mean']:.2f} +- {gym['return_stderr']:.2f}, z {diff['z']:+.2f}")
    assert mjx["n"] == gym["n"] == 24
    assert 1 <= mjx["length_mean"] <= 100 and 1 <= gym["length_mean"] <= 100
    assert mjx["nonfinite"] == gym["nonfinite"] == 0
    assert abs(diff["z"]) < 4.0
    assert np.isclose(diff["mean"], gym["return_mean"] - mjx["return_mean"])
