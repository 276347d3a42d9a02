"""A tiny probe-task run shared by the trainer, evaluation and loading tests (one compile),
and the helpers those tests share."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import json
import os
import shutil
from collections.abc import Iterator
from unittest import mock

import jax
import numpy as np

from mjx_nclql.core.config import (
    AlgoConfig,
    CriticConfig,
    EnvConfig,
    LogConfig,
    RunConfig,
    SamplerConfig,
    TrainConfig,
)
from mjx_nclql.runtime.loop import RunResult, run
from mjx_nclql.runtime.run_dir import METRICS_FILE
from mjx_nclql.runtime.trainer import Trainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def probe_config(run_dir: str | None, **changes) -> RunConfig:
    """8 chunks of 10 vector steps on the two-step probe; 2 of them warm-up."""
    cfg = RunConfig(
        env=EnvConfig(name="probe_two_step"),
        algo=AlgoConfig(
            sampler=SamplerConfig(num_levels=3, steps_per_level=1, sigma_max=0.3, sigma_min=0.03),
            critic=CriticConfig(hidden_sizes=(32, 32)),
            lr=1e-3,
        ),
        train=TrainConfig(
            num_envs=4,
            total_steps=240,
            warmup_steps=80,
            buffer_size=1000,
            batch_size=32,
            eval_every=80,
            eval_episodes=3,
            chunk_iters=10,
            checkpoint_every=80,
            keep_checkpoints=3,
        ),
        log=LogConfig(wandb_mode="disabled", progress=False, plot=False),
        num_seeds=2,
        run_dir=run_dir,
    )
    return dataclasses.replace(cfg, **changes)


def hopper_config(run_dir: str, **log_changes) -> RunConfig:
    """A tiny Hopper run: 100-step episodes, chunks of 200 transitions, 2 of them warm-up.
    Evaluation and rendering tests share it, so in one session their programs compile once
    (the persistent compile cache)."""
    return RunConfig(
        env=EnvConfig(name="hopper", options={"episode_length": 100}),
        algo=AlgoConfig(
            sampler=SamplerConfig(num_levels=3, steps_per_level=2, sigma_max=0.1, sigma_min=0.01),
            critic=CriticConfig(hidden_sizes=(32, 32)),
            lr=1e-3,
        ),
        train=TrainConfig(
            num_envs=8,
            total_steps=800,
            warmup_steps=400,
            buffer_size=5000,
            batch_size=64,
            eval_every=800,
            eval_episodes=2,
            chunk_iters=25,
            checkpoint_every=800,
        ),
        log=LogConfig(wandb_mode="disabled", progress=False, plot=False, **log_changes),
        run_dir=run_dir,
    )


def hopper_run(run_dir: str) -> str:
    """The shared tiny Hopper run of `hopper_config` with `log.render`, evaluated after its
    first training chunk (chunk 3) and stopped there with a checkpoint."""
    cfg = hopper_config(run_dir, render=True)
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, eval_every=200))
    assert run(cfg, max_chunks=3).status == "interrupted"
    return run_dir


def copy_run(run_dir: str, dest: str) -> str:
    """A writable copy of a shared run directory (evaluate and render write into theirs)."""
    shutil.copytree(run_dir, dest)
    return dest


@contextlib.contextmanager
def count_traces() -> Iterator[collections.Counter[str]]:
    """How often the trainer's chunk and evaluation functions are traced: each trace is a
    compile, so a run that retraces shows a count above 1."""
    counts: collections.Counter[str] = collections.Counter()
    chunk, evaluate = Trainer._chunk, Trainer._evaluate

    def counted_chunk(self, ts, warmup):
        counts["warmup_chunk" if warmup else "train_chunk"] += 1
        return chunk(self, ts, warmup)

    def counted_evaluate(self, params, key):
        counts["evaluate"] += 1
        return evaluate(self, params, key)

    with (
        mock.patch.object(Trainer, "_chunk", counted_chunk),
        mock.patch.object(Trainer, "_evaluate", counted_evaluate),
    ):
        yield counts


@functools.cache
def reference_run(tmp: str) -> tuple[RunResult, collections.Counter[str]]:
    """The probe run (and its trace counts), trained once per test session."""
    with count_traces() as traces:
        result = run(probe_config(os.path.join(tmp, "reference")))
    return result, traces


def read_records(run_dir: str) -> list[dict]:
    with open(os.path.join(run_dir, METRICS_FILE)) as f:
        return [json.loads(line) for line in f]


def assert_same_params(a, b) -> None:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def assert_saved_params_match(path, params) -> None:
    """Leaves saved by a subprocess (`np.savez(path, *leaves)`) equal `params` to float32
    round-off (another device layout may reorder reductions)."""
    saved = np.load(path)
    for i, x in enumerate(jax.tree.leaves(params)):
        np.testing.assert_allclose(saved[f"arr_{i}"], np.asarray(x), rtol=1e-5, atol=1e-6)
