"""The training program: CLI configs, outputs, resume, faults, sharding, tracing."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from train_fixtures import probe_config

import mjx_nclql
from mjx_nclql.checkpoint import Checkpointer, CheckpointError
from mjx_nclql.config import (
    AlgoConfig,
    ConfigError,
    EnvConfig,
    RunConfig,
    TrainConfig,
    from_dict,
)
from mjx_nclql.train import CONFIG_DIR, NonFiniteError, config_from_hydra, load_run_config, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _records(run_dir: str) -> list[dict]:
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def _assert_saved_params_match(path, params) -> None:
    """Leaves saved by a subprocess (`np.savez(path, *leaves)`) equal `params` to float32
    round-off (another device layout may reorder reductions)."""
    saved = np.load(path)
    for i, x in enumerate(jax.tree.leaves(params)):
        np.testing.assert_allclose(saved[f"arr_{i}"], np.asarray(x), rtol=1e-5, atol=1e-6)


def _assert_same_params(a, b) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["ant", "halfcheetah", "hopper", "humanoid", "walker2d", "swimmer"])
@pytest.mark.parametrize("algo", ["nclql", "lql"])
@pytest.mark.parametrize("preset", ["paper", "fast", "smoke"])
def test_every_cli_combination_composes(env: str, algo: str, preset: str) -> None:
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=os.path.abspath(CONFIG_DIR), version_base=None):
        dcfg = compose("config", overrides=[f"env={env}", f"algo={algo}", f"preset={preset}"])
    cfg = config_from_hydra(dcfg)
    assert cfg.env.name == env and cfg.algo.variant == algo
    if preset == "paper":
        t = cfg.train
        assert (t.num_envs, t.updates_per_step, t.warmup_steps, t.total_steps) == (
            5, 1, 30_000, 5_000_000)
        assert (t.eval_every, t.eval_episodes, cfg.algo.batch_size) == (125_000, 20, 256)


def test_paper_protocol_counts_warmup_outside_the_budget() -> None:
    """The reference: 30k uniform transitions, then 5e6 transitions = exactly 1e6 updates, with
    an evaluation every 125k post-warm-up transitions (40 in all)."""
    from mjx_nclql.trainer import make_schedule

    cfg = TrainConfig()  # the paper preset's values are the defaults
    sched = make_schedule(cfg, AlgoConfig().batch_size)
    assert sched.env_steps(sched.warmup_chunks) == 30_000
    assert sched.post_warmup_steps(sched.total_chunks) == 5_000_000
    assert sched.train_chunks * sched.chunk_iters * cfg.updates_per_step == 1_000_000
    evals = [sched.post_warmup_steps(c) for c in range(sched.total_chunks + 1) if sched.eval_due(c)]
    assert evals == [125_000 * k for k in range(1, 41)]
    assert not any(sched.eval_due(c) for c in range(sched.warmup_chunks + 1))


def test_task_options_override_and_reach_the_env() -> None:
    from hydra import compose, initialize_config_dir

    from mjx_nclql.train import make_env

    overrides = ["env=hopper", "env.options.episode_length=50",
                 "+env.options.ctrl_cost_weight=0.05", "+env.options.solver_iterations=4"]
    with initialize_config_dir(config_dir=os.path.abspath(CONFIG_DIR), version_base=None):
        default = config_from_hydra(compose("config", overrides=["env=hopper"]))
        cfg = config_from_hydra(compose("config", overrides=overrides))
    assert default.env.options == {"episode_length": 1000}
    env = make_env(cfg)
    assert env.episode_length == 50 and env.config.ctrl_cost_weight == 0.05
    assert env.mj_model.opt.iterations == 4
    bad = dataclasses.replace(cfg, env=EnvConfig(name="hopper", options={"ctrl_weight": 1.0}))
    with pytest.raises(ConfigError, match="ctrl_cost_weight"):  # lists the valid options
        make_env(bad)


def test_cli_rejects_bad_input_before_compiling(tmp_path) -> None:
    """Each bad command exits 2 with a message naming the problem, within seconds."""
    cases = [
        (["algo.sampler.sigma_min=0.5"], "sampler.sigma_min"),
        (["+algo.sampler.temperature=1"], "temperature"),
        (["train.num_envs=0"], "train.num_envs"),
        (["algo.sampler.w=nan"], "sampler.w"),
        ([f"resume={tmp_path}/missing"], "not found"),
    ]
    for overrides, needle in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "mjx_nclql.train", *overrides, "log.wandb_mode=disabled",
             f"run_dir={tmp_path}/r"],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )
        assert proc.returncode == 2, (overrides, proc.stdout[-2000:], proc.stderr[-2000:])
        assert needle in proc.stderr, (overrides, proc.stderr[-2000:])
    assert not os.path.exists(tmp_path / "r" / "checkpoints")
    # An unknown task is a missing config-group option: Hydra lists the valid ones.
    proc = subprocess.run([sys.executable, "-m", "mjx_nclql.train", "env=cartpole"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode != 0 and "halfcheetah" in proc.stderr


@pytest.mark.slow
def test_cli_run_writes_every_output(tmp_path) -> None:
    """`python -m mjx_nclql.train` end to end (tiny probe run): the header line, the progress
    bar, the resolved config, metrics, the learning-curve PNG, checkpoints, offline wandb."""
    run_dir = tmp_path / "cli"
    overrides = [
        "preset=smoke", "env.name=probe_two_step", "train.num_envs=4", "train.total_steps=160",
        "train.warmup_steps=80", "train.chunk_iters=10", "train.eval_every=80",
        "train.eval_episodes=2", "train.checkpoint_every=80", "algo.batch_size=32",
        "algo.critic.hidden_sizes=[16,16]", "algo.sampler.num_levels=3",
        "algo.sampler.steps_per_level=1", "log.wandb_mode=offline", f"run_dir={run_dir}",
    ]
    env = dict(os.environ, WANDB_SILENT="true", WANDB_DISABLE_GIT="true")
    proc = subprocess.run([sys.executable, "-m", "mjx_nclql.train", *overrides], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    first = proc.stdout.splitlines()[0]
    for needle in ("nclql on probe_two_step", "device", "num_envs 4", "seeds 1", "replay"):
        assert needle in first, first
    assert "eval=" in proc.stdout and "updates=" in proc.stdout  # the progress bar's postfix
    cfg = load_run_config(str(run_dir))
    assert cfg.train.total_steps == 160 and cfg.algo.critic.hidden_sizes == (16, 16)
    records = _records(str(run_dir))
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert len(train) == 6 and [r["env_steps"] for r in evals] == [160, 240]
    assert [r["post_warmup_steps"] for r in evals] == [80, 160]
    for key in ("env_steps", "updates", "wall_time", "steps_per_s", "train_return", "td_loss",
                "nc_loss", "q_mean", "grad_a_norm", "next_action_std", "nan_resets"):
        assert key in train[-1], key
    assert np.isfinite(train[-1]["td_loss"]) and len(evals[-1]["eval_return_mean"]) == 1
    with open(run_dir / "learning_curve.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert Checkpointer(str(run_dir / "checkpoints")).steps()[-1] == 6
    offline = [d for d in os.listdir(run_dir / "wandb") if d.startswith("offline-run-")]
    assert len(offline) == 1
    assert any(f.endswith(".wandb") for f in os.listdir(run_dir / "wandb" / offline[0]))


def test_unknown_env_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match="halfcheetah"):
        run(from_dict(RunConfig, {"env": {"name": "cheetah3000"}}))


def test_buffer_larger_than_memory_is_refused() -> None:
    cfg = from_dict(RunConfig, {"env": {"name": "humanoid"}, "num_seeds": 1000,
                                "train": {"buffer_size": 10_000_000}})
    with pytest.raises(ConfigError, match="buffer_size"):
        run(cfg)


def test_seeds_must_split_over_requested_devices(tmp_path) -> None:
    cfg = probe_config(str(tmp_path / "r"), devices=len(jax.devices()) + 1)
    with pytest.raises(ConfigError, match="devices"):
        run(cfg)


def test_existing_run_dir_is_not_overwritten(reference) -> None:
    with pytest.raises(ConfigError, match="resume="):
        run(probe_config(reference.run_dir))


# --- outputs, tracing, resume -------------------------------------------------------------


def test_run_writes_outputs_and_traces_each_function_once(reference) -> None:
    d = reference.run_dir
    assert reference.status == "finished"
    assert set(reference.trainer.trace_counts.values()) == {1}
    assert set(reference.trainer.trace_counts) == {"warmup_chunk", "train_chunk", "evaluate"}
    records = _records(d)
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["env_steps"] for r in train] == [40 * i for i in range(1, 9)]
    assert [r["env_steps"] for r in evals] == [160, 240, 320]
    # Warm-up (2 chunks) is outside the 240-transition budget, as in the reference program.
    assert [r["post_warmup_steps"] for r in train] == [0, 0] + [40 * i for i in range(1, 7)]
    assert all(len(r["eval_return_mean"]) == 2 for r in evals)
    # 6 training chunks x 10 vector steps x 1 update.
    assert train[-1]["updates"] == 60 and train[1]["updates"] == 0
    # The two-step probe: every episode lasts 2 steps.
    assert train[-1]["train_length"] == [2.0, 2.0]
    assert os.path.isfile(os.path.join(d, "config.yaml"))
    assert Checkpointer(os.path.join(d, "checkpoints")).steps() == [4, 6, 8]


def test_loaded_policy_acts_like_the_trained_agent(reference) -> None:
    policy = mjx_nclql.load(reference.run_dir, seed_index=1)
    assert policy.step == 8
    obs = np.array([[1.0, 0.0]] * 4, np.float32)
    key = jax.random.PRNGKey(3)
    params = jax.tree.map(lambda x: x[1], reference.state.agent.params)
    np.testing.assert_array_equal(policy(obs, key), policy.agent.act(params, obs, key))
    with pytest.raises(ValueError, match="expects 2"):
        policy(np.zeros((3,), np.float32), key)


def test_interrupted_and_resumed_run_equals_uninterrupted(reference, tmp_path, capsys) -> None:
    """Stop by SIGTERM after chunk 3, resume, stop again by max_chunks, damage the newest
    checkpoint (as a kill mid-write would), resume: parameters equal the uninterrupted run."""
    cfg = probe_config(str(tmp_path / "r"))

    def send_sigterm(chunk: int) -> None:
        if chunk == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    first = run(cfg, on_chunk=send_sigterm)
    assert first.status == "interrupted"
    # The stop is announced when the signal arrives, with how to stop at once.
    assert "SIGTERM received: stopping after the current chunk" in capsys.readouterr().err
    ckpt = Checkpointer(os.path.join(cfg.run_dir, "checkpoints"))
    assert ckpt.steps()[-1] == 3
    second = run(dataclasses.replace(cfg, resume=cfg.run_dir), max_chunks=3)
    assert second.status == "interrupted" and ckpt.steps() == [3, 4, 6]
    # Damage checkpoint 6: its state item loses its data files.
    state_dir = os.path.join(cfg.run_dir, "checkpoints", "6", "state")
    for root, _, files in os.walk(state_dir):
        for f in files:
            if "manifest" in f or f.startswith("d") or "ocdbt" in root:
                os.remove(os.path.join(root, f))
    final = run(dataclasses.replace(cfg, resume=cfg.run_dir))
    assert final.status == "finished"
    _assert_same_params(final.state.agent.params, reference.state.agent.params)
    _assert_same_params(final.state.agent.target_params, reference.state.agent.target_params)
    # The metrics file has each chunk once, as the uninterrupted run's.
    steps = [r["env_steps"] for r in _records(cfg.run_dir)]
    assert steps == [r["env_steps"] for r in _records(reference.run_dir)]


def test_resume_before_the_first_checkpoint_starts_afresh(reference, tmp_path, capsys) -> None:
    """A run killed while compiling has its config (and maybe a few metrics) but no
    checkpoint: `resume=` starts it again from its saved config and ends as the reference."""
    from mjx_nclql.train import _write_config

    cfg = probe_config(str(tmp_path / "r"))
    os.makedirs(cfg.run_dir)
    _write_config(cfg.run_dir, cfg)
    with open(os.path.join(cfg.run_dir, "metrics.jsonl"), "w") as f:
        f.write(json.dumps({"kind": "train", "chunk": 1, "env_steps": 40}) + "\n")
    final = run(dataclasses.replace(probe_config(None), resume=cfg.run_dir))
    assert final.status == "finished"
    assert "starting the run afresh" in capsys.readouterr().out
    _assert_same_params(final.state.agent.params, reference.state.agent.params)
    steps = [r["env_steps"] for r in _records(cfg.run_dir)]
    assert steps == [r["env_steps"] for r in _records(reference.run_dir)]


def test_missing_checkpoints_give_a_clear_error(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Checkpointer(str(tmp_path / "none")).restore_latest({"a": np.zeros(2)})


def test_non_finite_training_stops_and_keeps_last_good_checkpoint(tmp_path) -> None:
    cfg = probe_config(str(tmp_path / "r"))
    cfg = dataclasses.replace(cfg, algo=dataclasses.replace(cfg.algo, lr=1e38))
    with pytest.raises(NonFiniteError, match="non-finite"):
        run(cfg)
    steps = Checkpointer(os.path.join(cfg.run_dir, "checkpoints")).steps()
    # Warm-up ends at chunk 2 (checkpointed); training diverges in chunk 3, never saved.
    assert steps == [2]


@pytest.mark.slow
def test_sharding_over_two_cpu_devices_matches_one_device(reference, tmp_path) -> None:
    script = textwrap.dedent(f"""
        import dataclasses, jax, numpy as np, sys
        sys.path.insert(0, {os.path.join(ROOT, 'tests')!r})
        from test_train import probe_config
        from mjx_nclql.train import run
        assert len(jax.devices()) == 2
        res = run(probe_config({str(tmp_path / 'sharded')!r}, devices=2))
        leaf = res.state.agent.params["critics"]["out"]["kernel"]
        assert len(leaf.sharding.device_set) == 2, leaf.sharding
        leaves = [np.asarray(x) for x in jax.tree.leaves(res.state.agent.params)]
        np.savez({str(tmp_path / 'p.npz')!r}, *leaves)
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_saved_params_match(tmp_path / "p.npz", reference.state.agent.params)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_host_run_matches_one_process(reference, tmp_path) -> None:
    """A multi-host run: two processes (one CPU device each, gloo) started with the same
    config, `jax.distributed` initialised by the run. Each process trains its share of the
    seed axis; only process 0 writes outputs. SIGTERM to process 1 alone stops both after the
    same chunk; both resume; the result equals the uninterrupted single-process run."""
    run_dir = str(tmp_path / "multihost")
    script = textwrap.dedent(f"""
        import dataclasses, os, signal, sys, jax, numpy as np
        sys.path.insert(0, {os.path.join(ROOT, 'tests')!r})
        from test_train import probe_config
        from mjx_nclql.config import DistConfig
        from mjx_nclql.distributed import to_host
        from mjx_nclql.train import run
        pid = int(sys.argv[1])
        dist = DistConfig(enabled=True, coordinator_address="localhost:{_free_port()}",
                          num_processes=2, process_id=pid)
        cfg = probe_config({run_dir!r}, distributed=dist)

        def signal_host_1(chunk):
            if pid == 1 and chunk == 3:
                os.kill(os.getpid(), signal.SIGTERM)

        first = run(cfg, on_chunk=signal_host_1)
        print("first run", first.status, int(to_host(first.state.env_steps)[0]))
        res = run(dataclasses.replace(cfg, resume={run_dir!r}))
        assert (jax.process_count(), len(jax.devices()), len(jax.local_devices())) == (2, 2, 1)
        leaf = res.state.agent.params["critics"]["out"]["kernel"]
        assert not leaf.is_fully_addressable  # each process holds one seed
        leaves = to_host(jax.tree.leaves(res.state.agent.params))
        if pid == 0:
            np.savez({str(tmp_path / 'p.npz')!r}, *leaves)
        print("records", len(res.records))
    """)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    logs = [tmp_path / f"p{i}.log" for i in range(2)]
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open(path, "w")) for path in logs]
        procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], env=env,
                                  stdout=files[i], stderr=subprocess.STDOUT) for i in range(2)]
        try:
            codes = [p.wait(timeout=600) for p in procs]
        finally:
            for p in procs:
                p.kill()
    out = [path.read_text() for path in logs]
    assert codes == [0, 0], "\n\n".join(o[-3000:] for o in out)
    assert all("first run interrupted 120" in o for o in out)  # both stopped after chunk 3
    assert "records 11" in out[0] and "records 0" in out[1]  # 8 train + 3 eval, written once
    assert "mjx_nclql |" in out[0] and "mjx_nclql |" not in out[1]
    assert len(_records(run_dir)) == len(_records(reference.run_dir))
    assert Checkpointer(os.path.join(run_dir, "checkpoints")).steps() == [4, 6, 8]
    _assert_saved_params_match(tmp_path / "p.npz", reference.state.agent.params)
