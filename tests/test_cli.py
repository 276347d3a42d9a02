"""The command line: config composition, bad input, and a whole run through the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from train_fixtures import read_records

from mjx_nclql.core.cli_config import compose
from mjx_nclql.core.config import ConfigError, EnvConfig, RunConfig, TrainConfig, from_dict
from mjx_nclql.runtime import provenance
from mjx_nclql.runtime.checkpoint import Checkpointer
from mjx_nclql.runtime.loop import run
from mjx_nclql.runtime.run_dir import load_run_config


def test_paper_protocol_counts_warmup_outside_the_budget() -> None:
    """The reference: 30k uniform transitions, then 5e6 transitions = exactly 1e6 updates, with
    an evaluation every 125k post-warm-up transitions (40 in all)."""
    from mjx_nclql.runtime.schedule import make_schedule

    cfg = TrainConfig()  # the paper preset's values are the defaults
    sched = make_schedule(cfg)
    assert sched.env_steps(sched.warmup_chunks) == 30_000
    assert sched.post_warmup_steps(sched.total_chunks) == 5_000_000
    assert sched.train_chunks * sched.chunk_iters * cfg.updates_per_step == 1_000_000
    evals = [sched.post_warmup_steps(c) for c in range(sched.total_chunks + 1) if sched.eval_due(c)]
    assert evals == [125_000 * k for k in range(1, 41)]
    assert not any(sched.eval_due(c) for c in range(sched.warmup_chunks + 1))


def test_task_options_override_and_reach_the_env() -> None:
    from mjx_nclql.runtime.build import make_env

    overrides = [
        "env=hopper",
        "env.options.episode_length=50",
        "+env.options.ctrl_cost_weight=0.05",
        "+env.options.solver_iterations=4",
    ]
    default = compose(["env=hopper"])
    cfg = compose(overrides)
    assert default.env.options == {"episode_length": 1000}
    env = make_env(cfg)
    assert env.episode_length == 50 and env.config.ctrl_cost_weight == 0.05
    assert env.mj_model.opt.iterations == 4
    bad = dataclasses.replace(cfg, env=EnvConfig(name="hopper", options={"ctrl_weight": 1.0}))
    with pytest.raises(ConfigError, match="ctrl_cost_weight"):  # lists the valid options
        make_env(bad)


def _train_cli(argv: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """`python -m mjx_nclql.train ARGV` through its Hydra entry point, in this process:
    (exit code, stderr)."""
    from mjx_nclql import train

    monkeypatch.setattr(sys, "argv", ["mjx_nclql.train", *argv])
    with pytest.raises(SystemExit) as stop:
        train._main()
    return stop.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        (["algo.sampler.sigma_min=0.5"], "sampler.sigma_min"),
        (["+algo.sampler.temperature=1"], "temperature"),
        (["train.num_envs=0"], "train.num_envs"),
        (["algo.sampler.w=nan"], "sampler.w"),
        (["resume={tmp}/missing"], "not found"),
    ],
)
def test_cli_rejects_bad_input_before_compiling(overrides, needle, tmp_path, monkeypatch, capsys) -> None:
    """Each bad command exits 2 with a message naming the problem, and writes nothing."""
    overrides = [o.format(tmp=tmp_path) for o in overrides]
    code, err = _train_cli(
        [*overrides, "log.wandb_mode=disabled", f"run_dir={tmp_path}/r"], monkeypatch, capsys
    )
    assert code == 2 and needle in err, (overrides, err[-2000:])
    assert not os.path.exists(tmp_path / "r" / "checkpoints")


def test_cli_bad_input_in_a_real_process(tmp_path) -> None:
    """The same through a real `python -m` process (exit code and message on stderr), and an
    unknown task: a missing config-group option, for which Hydra lists the valid ones."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mjx_nclql.train",
            "train.num_envs=0",
            "log.wandb_mode=disabled",
            f"run_dir={tmp_path}/r",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "train.num_envs" in proc.stderr, proc.stderr[-2000:]
    proc = subprocess.run(
        [sys.executable, "-m", "mjx_nclql.train", "env=cartpole"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode != 0 and "halfcheetah" in proc.stderr


@pytest.mark.slow
def test_cli_run_writes_every_output(tmp_path) -> None:
    """`python -m mjx_nclql.train` end to end (tiny probe run): the header line, the progress
    bar, the resolved config, metrics, the learning-curve PNG, checkpoints, offline wandb."""
    run_dir = tmp_path / "cli"
    overrides = [
        "preset=smoke",
        "env.name=probe_two_step",
        "train.num_envs=4",
        "train.total_steps=160",
        "train.warmup_steps=80",
        "train.chunk_iters=10",
        "train.eval_every=80",
        "train.eval_episodes=2",
        "train.checkpoint_every=80",
        "train.batch_size=32",
        "algo.critic.hidden_sizes=[16,16]",
        "algo.sampler.num_levels=3",
        "algo.sampler.steps_per_level=1",
        "log.wandb_mode=offline",
        f"run_dir={run_dir}",
    ]
    env = dict(os.environ, WANDB_SILENT="true", WANDB_DISABLE_GIT="true")
    proc = subprocess.run(
        [sys.executable, "-m", "mjx_nclql.train", *overrides],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    first = proc.stdout.splitlines()[0]
    for needle in ("nclql on probe_two_step", "device", "num_envs 4", "seeds 1", "replay"):
        assert needle in first, first
    assert "eval=" in proc.stdout and "updates=" in proc.stdout  # the progress bar's postfix
    # Compiling is a phase of its own, not a slow first chunk.
    for what in ("warm-up chunk", "training chunk", "evaluation"):
        assert f"compiled the {what} in" in proc.stdout, proc.stdout[-2000:]
    cfg = load_run_config(str(run_dir))
    assert cfg.train.total_steps == 160 and cfg.algo.critic.hidden_sizes == (16, 16)
    records = read_records(str(run_dir))
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert len(train) == 6 and [r["env_steps"] for r in evals] == [160, 240]
    assert [r["post_warmup_steps"] for r in evals] == [80, 160]
    for key in (
        "env_steps",
        "updates",
        "wall_time",
        "steps_per_s",
        "train_return",
        "td_loss",
        "nc_loss",
        "q_mean",
        "grad_a_norm",
        "next_action_std",
        "nan_resets",
    ):
        assert key in train[-1], key
    assert np.isfinite(train[-1]["td_loss"]) and len(evals[-1]["eval_return_mean"]) == 1
    with open(run_dir / "learning_curve.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert Checkpointer(str(run_dir / "checkpoints")).steps()[-1] == 6
    # What produced the run: this checkout's commit, the installed versions, the device.
    (start,) = json.loads((run_dir / provenance.PROVENANCE_FILE).read_text())["starts"]
    assert start["commit"] == provenance.git_state()[0] and not start["resumed"]
    assert start["packages"] == provenance.package_versions()
    import jax

    assert start["device"]["backend"] == jax.default_backend() and start["device"]["count"] >= 1
    offline = [d for d in os.listdir(run_dir / "wandb") if d.startswith("offline-run-")]
    assert len(offline) == 1
    assert any(f.endswith(".wandb") for f in os.listdir(run_dir / "wandb" / offline[0]))


def test_unknown_env_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match="halfcheetah"):
        run(from_dict(RunConfig, {"env": {"name": "cheetah3000"}}))
