"""`python -m mjx_nclql.evaluate`: the same policy on the MJX task and in Gymnasium (MuJoCo C)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from train_fixtures import copy_run, probe_config

from mjx_nclql.runtime.saved_run import RunDirError, checkpoint_at, checkpoints_by_step
from mjx_nclql.runtime.schedule import make_schedule
from mjx_nclql.tools.evaluate import (
    EVAL_FILE,
    UNITS,
    evaluate_run,
    gymnasium_episodes,
    main,
    write_eval_file,
)


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
        (
            [run_dir, "--step", "5"],  # a chunk index is not a step: the valid values are listed
            "no checkpoint at --step 5 in " + run_dir + "; valid --step values (post-warm-up "
            "transitions): 80, 160, 240\n",
        ),
        ([run_dir, "--seeds", "2"], "out of range: the run has 2 seed(s)"),
        ([run_dir, "--seeds", "a"], "comma-separated integers"),
        ([run_dir, "--episodes", "0"], "--episodes must be >= 1"),
        ([run_dir], "Gymnasium has no counterpart of env 'probe_two_step'"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, message, err)
    assert _snapshot(run_dir) == before  # not even eval.json
    # A run directory whose checkpoints are gone.
    bare = tmp_path / "bare"
    shutil.copytree(run_dir, bare, ignore=shutil.ignore_patterns("checkpoints"))
    assert main([str(bare), "--simulator", "mjx"]) == 2
    assert "no checkpoints/ directory" in capsys.readouterr().err
    # The module's own entry point: message and exit code.
    proc = subprocess.run(
        [sys.executable, "-m", "mjx_nclql.evaluate", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "no such run directory" in proc.stderr


def test_all_checkpoints_on_mjx_are_written_to_eval_json(reference, tmp_path, capsys) -> None:
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
    assert record["units"] == UNITS
    assert [e["step"] for e in evals] == [80, 160, 240]  # post-warm-up transitions, as --step
    assert [e["chunk"] for e in evals] == [4, 6, 8]
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
    # --step takes what metrics.jsonl shows: 160 post-warm-up transitions is checkpoint 6, and
    # the same key evaluates the same episodes.
    capsys.readouterr()
    assert main([run_dir, "--step", "160", "--simulator", "mjx", "--episodes", "4"]) == 0
    assert "step 160 (post-warm-up transitions; checkpoint 6)" in capsys.readouterr().out
    with open(os.path.join(run_dir, EVAL_FILE)) as f:
        again = json.load(f)["evaluations"]
    assert [e["step"] for e in again] == [80, 160, 240]
    assert again[1]["seeds"] == evals[1]["seeds"]


def test_an_interrupted_curve_keeps_its_finished_checkpoints_and_resumes(reference, tmp_path, capsys) -> None:
    """eval.json is written after each checkpoint: a failure at the second keeps the first,
    and `--all --skip-evaluated` then evaluates only what is missing, with the same numbers a
    full evaluation gives; `--step` takes several values."""
    run_dir = str(tmp_path / "copy")
    shutil.copytree(reference.run_dir, run_dir)
    path = os.path.join(run_dir, EVAL_FILE)
    rows: list[str] = []

    def echo(line: str) -> None:  # fails on the second checkpoint, as a killed process would
        if "checkpoint 6" in line:
            raise KeyboardInterrupt
        rows.append(line)

    with pytest.raises(KeyboardInterrupt):
        evaluate_run(run_dir, steps=[80, 160, 240], episodes=4, simulators=("mjx",), echo=echo)
    with open(path) as f:
        assert [e["step"] for e in json.load(f)["evaluations"]] == [80]
    capsys.readouterr()
    mjx = ["--simulator", "mjx", "--episodes", "4"]
    assert main([run_dir, "--all", "--skip-evaluated", *mjx]) == 0
    out = capsys.readouterr().out
    assert "skipping step(s) 80: already in eval.json" in out
    assert "checkpoint 4)" not in out and "checkpoint 6)" in out and "checkpoint 8)" in out
    with open(path) as f:
        resumed = json.load(f)["evaluations"]
    assert [e["step"] for e in resumed] == [80, 160, 240]
    # Nothing left: no build, no compile, eval.json untouched.
    mtime = os.stat(path).st_mtime_ns
    assert main([run_dir, "--all", "--skip-evaluated", *mjx]) == 0
    out = capsys.readouterr().out
    assert "skipping step(s) 80, 160, 240" in out and "nothing to evaluate" in out
    assert os.stat(path).st_mtime_ns == mtime
    # Another setting is not the same evaluation: 2 episodes are evaluated, not skipped, and
    # kept beside the 4-episode entries; two --step values evaluate exactly those two.
    assert (
        main([run_dir, "--step", "80,240", "--skip-evaluated", "--simulator", "mjx", "--episodes", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "skipping" not in out and out.count("step 80 ") == 2 and out.count("step 240 ") == 2
    with open(path) as f:
        evals = json.load(f)["evaluations"]
    assert [(e["step"], e["episodes"]) for e in evals] == [(80, 2), (80, 4), (160, 4), (240, 2), (240, 4)]
    # The resumed entries are what one uninterrupted --all gives (same key, same episodes).
    fresh = str(tmp_path / "fresh")
    shutil.copytree(reference.run_dir, fresh)
    assert main([fresh, "--all", *mjx]) == 0
    with open(os.path.join(fresh, EVAL_FILE)) as f:
        whole = json.load(f)["evaluations"]
    assert [e["seeds"] for e in whole] == [e["seeds"] for e in resumed]
    assert main([run_dir, "--step", "80,x"]) == 2
    assert "--step must be comma-separated integers" in capsys.readouterr().err


def test_step_is_post_warmup_transitions_of_a_checkpoint() -> None:
    """Checkpoints are numbered by chunks done; --step names them as the metrics file's
    x-axis does, through the run's schedule (2 warm-up chunks of 40 transitions here)."""
    cfg = probe_config(None)
    sched = make_schedule(cfg.train)
    assert (sched.warmup_chunks, sched.steps_per_chunk) == (2, 40)
    assert checkpoints_by_step(cfg, [4, 6, 8]) == {80: 4, 160: 6, 240: 8}
    # Warm-up checkpoints all sit at 0 (no updates yet, the same parameters): the newest.
    assert checkpoints_by_step(cfg, [1, 2, 3]) == {0: 2, 40: 3}
    assert checkpoint_at(cfg, [4, 6, 8], 160, "RUN") == (160, 6)
    assert checkpoint_at(cfg, [4, 6, 8], None, "RUN") == (240, 8)  # default: the newest
    with pytest.raises(RunDirError) as err:
        checkpoint_at(cfg, [4, 6, 8], 6, "RUN")
    assert str(err.value) == (
        "no checkpoint at --step 6 in RUN; valid --step values (post-warm-up transitions): 80, 160, 240"
    )


def test_eval_json_from_before_steps_were_transitions_is_converted_on_merge(tmp_path) -> None:
    """Older entries had the chunk in `step`: merged into today's units, and a re-evaluation
    of the same checkpoint replaces them."""
    seeds = [{"seed_index": 0, "seed": 0, "mjx": {"return_mean": 1.0}}]
    setting = {"episodes": 4, "key": 0, "num_particles": 1, "evaluated_at": "then"}
    old = {
        "run_dir": str(tmp_path),
        "env": "hopper",
        "variant": "nclql",
        "gym_id": None,
        "evaluations": [
            {**setting, "step": 4, "env_steps": 160, "post_warmup_steps": 80, "updates": 20, "seeds": seeds},
            {**setting, "step": 6, "env_steps": 240, "post_warmup_steps": 160, "updates": 40, "seeds": seeds},
        ],
    }
    (tmp_path / EVAL_FILE).write_text(json.dumps(old))
    record = {
        "run_dir": str(tmp_path),
        "env": "hopper",
        "variant": "nclql",
        "gym_id": None,
        "episodes": 4,
        "key": 0,
        "num_particles": 1,
        "evaluated_at": "now",
        "checkpoints": [
            {
                "step": 160,
                "chunk": 6,
                "env_steps": 240,
                "post_warmup_steps": 160,
                "updates": 40,
                "seeds": seeds,
            }
        ],
    }
    write_eval_file(str(tmp_path), record)
    merged = json.loads((tmp_path / EVAL_FILE).read_text())
    assert merged["units"] == UNITS
    assert [(e["step"], e["chunk"], e["evaluated_at"]) for e in merged["evaluations"]] == [
        (80, 4, "then"),
        (160, 6, "now"),
    ]


def test_gymnasium_forward_distance_is_the_return_less_alive_bonus_and_control_cost() -> None:
    """Hopper-v4 pays x_velocity + 1 - 1e-3 |a|^2 per step of dt = 0.008 s: with every torque
    at 0.5 an episode's return is its forward distance / dt plus 0.99925 per step, to float64
    rounding."""
    import jax
    import jax.numpy as jnp

    def push(params, obs, key):
        return jnp.full((obs.shape[0], 3), 0.5)

    key = jax.random.PRNGKey(0)
    s = gymnasium_episodes("Hopper-v4", {}, push, None, key, episodes=3, reset_seed=7)
    assert s.n == 3 and s.nonfinite == 0 and 1 <= s.length_mean < 1000  # it falls
    assert abs(s.distance_mean) > 0.01
    expected = s.distance_mean / 0.008 + s.length_mean * (1 - 7.5e-4)
    np.testing.assert_allclose(s.return_mean, expected, rtol=1e-9)


@pytest.mark.slow
def test_hopper_policy_has_the_same_return_in_mjx_and_gymnasium(hopper_run_dir, tmp_path) -> None:
    """The shared tiny Hopper run (stopped after its first training chunk, checkpointed, as
    an interrupted run is), then its policy (the run's sampler on its critics) on both
    simulators: 24 episodes each, 100-step episodes; the mean returns must agree within 4
    standard errors of their difference."""
    run_dir = copy_run(hopper_run_dir, str(tmp_path / "hopper"))
    assert main([run_dir, "--episodes", "24"]) == 0
    with open(os.path.join(run_dir, EVAL_FILE)) as f:
        record = json.load(f)
    assert record["gym_id"] == "Hopper-v4"
    (entry,) = record["evaluations"]
    (row,) = entry["seeds"]
    mjx, gym, diff = row["mjx"], row["gymnasium"], row["difference"]
    print(
        f"hopper mjx {mjx['return_mean']:.2f} +- {mjx['return_stderr']:.2f}, gymnasium "
        f"{gym['return_mean']:.2f} +- {gym['return_stderr']:.2f}, z {diff['z']:+.2f}"
    )
    assert mjx["n"] == gym["n"] == 24
    assert 1 <= mjx["length_mean"] <= 100 and 1 <= gym["length_mean"] <= 100
    assert mjx["nonfinite"] == gym["nonfinite"] == 0
    assert abs(diff["z"]) < 4.0
    assert np.isclose(diff["mean"], gym["return_mean"] - mjx["return_mean"])
    # Forward distance: the same on both (within 4 se), and on each (over dt = 0.008 s) the
    # return less the alive bonus (1 per step) and a control cost of at most 3e-3 per step.
    se = np.hypot(mjx["distance_stderr"], gym["distance_stderr"])
    assert abs(gym["distance_mean"] - mjx["distance_mean"]) < 4.0 * se
    for sim in (mjx, gym):
        ctrl_cost = sim["length_mean"] + sim["distance_mean"] / 0.008 - sim["return_mean"]
        assert -1e-3 <= ctrl_cost <= 3e-3 * sim["length_mean"] + 1e-3
    # The training run's own evaluations log the same distance (metrics.jsonl, float32).
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        evals = [r for r in map(json.loads, f) if r["kind"] == "eval"]
    assert evals and all(len(r["eval_distance_mean"]) == 1 for r in evals)
    for r in evals:
        length, distance, ret = (r[f"eval_{k}_mean"][0] for k in ("length", "distance", "return"))
        assert -1e-2 <= length + distance / 0.008 - ret <= 3e-3 * length + 1e-2
