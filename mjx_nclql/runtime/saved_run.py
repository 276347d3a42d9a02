"""A saved run read back: its config and its checkpoints, named as users name them.

`evaluate` and `render` take a run directory and a `--step` in post-warm-up transitions per
seed (metrics.jsonl's `post_warmup_steps`, the learning curve's x-axis); checkpoints are
numbered by chunks done. This module checks that a directory is a usable run and maps one
numbering onto the other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from mjx_nclql.core.config import ConfigError, RunConfig
from mjx_nclql.core.errors import MjxNclqlError
from mjx_nclql.runtime.checkpoint import Checkpointer
from mjx_nclql.runtime.run_dir import checkpoint_dir, load_run_config
from mjx_nclql.runtime.schedule import make_schedule


class RunDirError(MjxNclqlError, ValueError):
    """A directory is not a usable run: missing, unreadable config, or no checkpoint."""


def saved_run(
    run_dir: str, purpose: str, usable: Callable[[RunConfig], str | None] | None = None
) -> tuple[RunConfig, list[int]]:
    """(config, checkpoint steps) of a run to `purpose` (e.g. "evaluate"), or a RunDirError
    that says what is missing; `usable(cfg)` may name a reason the run's config cannot serve."""
    if not os.path.isdir(run_dir):
        raise RunDirError(f"no such run directory: {run_dir}")
    try:
        cfg = load_run_config(run_dir)
    except (ConfigError, OSError, ValueError) as err:
        raise RunDirError(f"{run_dir} is not a readable run: {err}") from err
    if usable is not None and (reason := usable(cfg)):
        raise RunDirError(reason)
    ckpt_dir = checkpoint_dir(run_dir)
    if not os.path.isdir(ckpt_dir):
        raise RunDirError(f"{run_dir} has no checkpoints/ directory: nothing to {purpose}")
    ckpt = Checkpointer(ckpt_dir)
    try:
        steps = ckpt.steps()
    finally:
        ckpt.close()
    if not steps:
        raise RunDirError(f"no checkpoint in {ckpt_dir}")
    return cfg, steps


def checkpoints_by_step(cfg: RunConfig, chunks: Sequence[int]) -> dict[int, int]:
    """Post-warm-up transitions -> checkpoint (chunks done), for commands whose `--step` takes
    the x-axis users see (metrics.jsonl's `post_warmup_steps`), not the chunk a checkpoint is
    numbered by. Warm-up checkpoints all sit at 0 and hold the same parameters (warm-up makes
    no updates): 0 names the newest of them."""
    sched = make_schedule(cfg.train)
    return {sched.post_warmup_steps(c): c for c in sorted(chunks)}


def checkpoint_at(cfg: RunConfig, chunks: Sequence[int], step: int | None, run_dir: str) -> tuple[int, int]:
    """(post-warm-up transitions, checkpoint chunk) of `--step STEP` (None: the newest), or a
    one-line RunDirError that lists the valid values."""
    by_step = checkpoints_by_step(cfg, chunks)
    if step is None:
        step = max(by_step)
    if step not in by_step:
        valid = ", ".join(str(s) for s in sorted(by_step))
        raise RunDirError(
            f"no checkpoint at --step {step} in {run_dir}; valid --step values "
            f"(post-warm-up transitions): {valid}"
        )
    return step, by_step[step]
