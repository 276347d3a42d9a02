"""A tiny probe-task run shared by the trainer, evaluation and loading tests (one compile)."""

from __future__ import annotations

import dataclasses
import functools
import os

from mjx_nclql.config import (
    AlgoConfig,
    CriticConfig,
    EnvConfig,
    LogConfig,
    RunConfig,
    SamplerConfig,
    TrainConfig,
)
from mjx_nclql.train import run


def probe_config(run_dir: str, **changes) -> RunConfig:
    """8 chunks of 10 vector steps on the two-step probe; 2 of them warm-up."""
    cfg = RunConfig(
        env=EnvConfig(name="probe_two_step"),
        algo=AlgoConfig(
            sampler=SamplerConfig(num_levels=3, steps_per_level=1, sigma_max=0.3, sigma_min=0.03),
            critic=CriticConfig(hidden_sizes=(32, 32)), batch_size=32, lr=1e-3,
        ),
        train=TrainConfig(num_envs=4, total_steps=240, warmup_steps=80, buffer_size=1000,
                          eval_every=80, eval_episodes=3, chunk_iters=10, checkpoint_every=80,
                          keep_checkpoints=3),
        log=LogConfig(wandb_mode="disabled", progress=False, plot=False),
        num_seeds=2,
        run_dir=run_dir,
    )
    return dataclasses.replace(cfg, **changes)


@functools.cache
def reference_run(tmp: str):
    return run(probe_config(os.path.join(tmp, "reference")))
