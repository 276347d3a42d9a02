"""Everything a run writes or prints, behind one boundary.

`Outputs` owns the metrics file (and wandb), the learning curve, the checkpoints, the
progress bar and the console, so the training loop only hands it results, as Brax's
`progress_fn` does. A caller's own `progress_fn(record)` sees every record as it is logged.
In a multi-host run only process 0 writes files or prints; every process checkpoints (orbax
coordinates them) and calls `progress_fn`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from mjx_nclql.core.config import to_dict
from mjx_nclql.runtime import distributed, keys, provenance
from mjx_nclql.runtime.checkpoint import Checkpointer
from mjx_nclql.runtime.logger import MetricsLogger
from mjx_nclql.runtime.run_dir import (
    CURVE_FILE,
    METRICS_FILE,
    ROLLOUTS_DIR,
    checkpoint_dir,
    truncate_metrics,
    write_config,
)

if TYPE_CHECKING:
    from mjx_nclql.runtime.build import Setup
    from mjx_nclql.runtime.rollout import EpisodeStats
    from mjx_nclql.runtime.trainer import ChunkSummary, TrainState

Record = dict[str, Any]


class Outputs:
    def __init__(
        self, setup: Setup, run_dir: str, progress_fn: Callable[[Record], None] | None = None
    ) -> None:
        self.setup = setup
        self.cfg = setup.config
        self.title = f"{self.cfg.algo.variant} on {setup.env.name}"
        self.schedule = setup.schedule
        self.run_dir = run_dir
        self.primary = distributed.is_primary()
        self.progress_fn = progress_fn
        self.checkpoints = Checkpointer(checkpoint_dir(run_dir), keep=self.cfg.train.keep_checkpoints)
        self.logger: MetricsLogger | None = None
        self.bar: Any = None
        self.start_time = time.time()
        self.steps_done = 0  # by this invocation, per seed
        self.last_eval = "-"

    # ------------------------------------------------------------------ console
    def say(self, text: str) -> None:
        if self.primary:
            print(text, flush=True)

    def banner(self, layout: distributed.SeedLayout) -> None:
        cfg, sched = self.cfg, self.schedule
        hosts = f" on {jax.process_count()} hosts" if distributed.multi_host() else ""
        self.say(
            f"mjx_nclql | {self.title} | device {layout.devices[0].device_kind} "
            f"x{len(layout.devices)} ({jax.default_backend()}){hosts} | num_envs "
            f"{cfg.train.num_envs} | seeds {cfg.num_seeds} | replay "
            f"{distributed.gib(self.setup.replay_bytes())} ({cfg.train.buffer_size:,} x {cfg.num_seeds}) | "
            f"{sched.env_steps(sched.warmup_chunks):,} warm-up + "
            f"{sched.post_warmup_steps(sched.total_chunks):,} steps/seed in {sched.total_chunks} "
            f"chunks of {sched.steps_per_chunk:,} | {self.run_dir}"
        )

    def _note(self, text: str) -> None:
        """A line of its own, above the progress bar when it is shown."""
        if self.primary and self.bar is not None and not self.bar.disable:
            self.bar.write(text, file=sys.stdout)
        else:
            self.say(text)

    def compiling(self, what: str, compile_fn: Callable[[], float]) -> None:
        """Run `compile_fn` as a phase of its own: it blocks for seconds to minutes, which the
        progress bar would otherwise show as a slow first chunk."""
        if self.primary and self.bar is not None and not self.bar.disable:
            self.bar.set_postfix_str(f"compiling the {what} ...", refresh=True)
        else:
            self.say(f"compiling the {what} ...")
        self._note(f"compiled the {what} in {compile_fn():.1f} s")

    # ------------------------------------------------------------------ lifecycle
    def start(self, fresh: TrainState) -> tuple[int, TrainState]:
        """(first chunk, state): a resumed run's newest readable checkpoint, else chunk 0 and
        `fresh`. Then opens the metrics (a resume drops the records after its checkpoint)."""
        chunk, state = 0, fresh
        if self.cfg.resume and self.checkpoints.steps():
            chunk, state = self.checkpoints.restore_latest(fresh)
            self.say(f"resumed from checkpoint at chunk {chunk} ({self.schedule.env_steps(chunk):,} steps)")
        elif self.cfg.resume:  # stopped before its first checkpoint (e.g. killed while compiling)
            self.say(
                f"no checkpoint in {self.checkpoints.directory} yet: starting the run "
                "afresh from its saved config"
            )
        if self.primary and self.cfg.resume:
            truncate_metrics(self.run_dir, self.schedule.env_steps(chunk))
        elif self.primary:
            write_config(self.run_dir, self.cfg)
        if self.primary:  # which code, versions and device this start runs on
            provenance.record(self.run_dir, resumed=bool(self.cfg.resume))
        log = self.cfg.log
        self.logger = MetricsLogger(
            self.run_dir,
            to_dict(self.cfg),
            metrics_path=os.path.join(self.run_dir, METRICS_FILE),
            curve_path=os.path.join(self.run_dir, CURVE_FILE),
            pages_dir=os.path.join(self.run_dir, ROLLOUTS_DIR),
            wandb_mode=log.wandb_mode,
            project=log.wandb_project,
            entity=log.wandb_entity,
            plot=log.plot,
            resume=bool(self.cfg.resume),
            enabled=self.primary,
        )
        from tqdm import tqdm

        per_chunk = self.schedule.steps_per_chunk
        self.bar = tqdm(
            total=self.schedule.env_steps(self.schedule.total_chunks),
            initial=chunk * per_chunk,
            unit="step",
            unit_scale=True,
            disable=not (log.progress and self.primary),
            dynamic_ncols=True,
            file=sys.stdout,
        )
        self.start_time = time.time()
        return chunk, state

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.logger is not None:
            self.logger.close()
        self.checkpoints.close()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ results
    def _steps(self, chunk: int) -> Record:
        return {
            "env_steps": self.schedule.env_steps(chunk),
            "post_warmup_steps": self.schedule.post_warmup_steps(chunk),
        }

    def _emit(self, record: Record) -> None:
        assert self.logger is not None, "Outputs.start() first"
        self.logger.log(record)
        if self.progress_fn is not None:
            self.progress_fn(record)

    def chunk_done(self, chunk: int, summary: ChunkSummary, updates: int, seconds: float) -> Record:
        """Log chunk `chunk` (1-based: chunks done) from its host-side summary."""
        per_chunk = self.schedule.steps_per_chunk
        self.steps_done += per_chunk
        train_return, train_length = summary.episodes.means()
        record: Record = {
            "kind": "train",
            "chunk": chunk,
            **self._steps(chunk),
            "updates": updates,
            "phase": "warmup" if self.schedule.is_warmup(chunk - 1) else "train",
            "wall_time": time.time() - self.start_time,
            "chunk_seconds": seconds,
            "steps_per_s": per_chunk * self.cfg.num_seeds / seconds,
            "train_return": train_return,
            "train_length": train_length,
            **summary.losses,
            "nan_resets": summary.nan_resets_total,
            "sanitised_actions": summary.sanitised_actions_total,
        }
        self._emit(record)
        self.bar.update(per_chunk)
        self.bar.set_postfix(
            updates=updates, sps=f"{record['steps_per_s']:.0f}", eval=self.last_eval, phase=record["phase"]
        )
        return record

    def evaluation(self, chunk: int, stats: EpisodeStats, updates: int, params: Any) -> None:
        """Log an evaluation; with `log.render`, also write a rollout of seed 0 (`params` has
        the seed axis, possibly spread over hosts: every process must call this)."""
        returns = np.asarray(stats.returns)
        record = {
            "kind": "eval",
            "chunk": chunk,
            **self._steps(chunk),
            "updates": updates,
            "wall_time": time.time() - self.start_time,
            "eval_return_mean": returns.mean(1),
            "eval_return_std": returns.std(1),
            "eval_length_mean": np.asarray(stats.lengths).mean(1),
        }
        if stats.distances is not None:  # metres forward per episode (tasks with x_velocity)
            record["eval_distance_mean"] = np.asarray(stats.distances).mean(1)
        self._emit(record)
        self.logger.plot_curve(self.title)
        self.last_eval = f"{returns.mean():.1f}"
        if self.cfg.log.render:
            seed0 = jax.tree.map(lambda x: x[0], distributed.to_host(params))
            if self.primary:
                self.logger.log_page(f"rollout-{chunk}.html", self._rollout_page(chunk, seed0))

    def _rollout_page(self, chunk: int, params: Any) -> str:
        """One episode of seed 0's `params` as Brax's 3-D viewer page."""
        from mjx_nclql.runtime.recording import record_episodes, to_html

        episodes = record_episodes(
            self.setup.env, self.setup.agent.act, params, keys.eval_keys(self.cfg.seed, 1, chunk)[0]
        )
        return to_html(self.setup.env, episodes, title=f"{self.title}, chunk {chunk}, seed 0")

    def checkpoint(self, chunk: int, state: TrainState) -> None:
        self.checkpoints.save(chunk, state, state.agent.params)

    def records(self) -> list[Record]:
        return self.logger.records() if self.logger is not None else []

    def finished(self, status: str, chunk: int) -> None:
        rate = self.steps_done * self.cfg.num_seeds / max(time.time() - self.start_time, 1e-9)
        self.say(
            f"{status}: {chunk * self.schedule.steps_per_chunk:,} steps/seed; {rate:,.0f} "
            f"env steps/s over all seeds (this process, compile included); outputs in "
            f"{self.run_dir}"
        )
