"""How a run's protocol maps onto chunks: warm-up, training, evaluations and checkpoints.

The protocol counts transitions (`train.total_steps`, `warmup_steps`, `eval_every`, ...); the
trainer runs whole chunks of `train.chunk_iters` vector steps. `make_schedule` rounds one onto
the other once, and every part that counts chunks or steps (the run loop, outputs, the run
directory's checkpoint lookup, the benchmark) reads the same `Schedule`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mjx_nclql.core.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How the protocol's transition counts map onto chunks of vector steps.

    As in the reference program, warm-up is not part of the budget: `train_chunks` cover
    `total_steps` transitions (so `total_steps / num_envs * updates_per_step` updates), and
    evaluations and checkpoints fall every so many post-warm-up transitions.
    """

    chunk_iters: int
    steps_per_chunk: int  # transitions per chunk, all envs together
    warmup_chunks: int
    train_chunks: int
    eval_every_chunks: int
    checkpoint_every_chunks: int  # 0 = no periodic checkpoints

    @property
    def total_chunks(self) -> int:
        return self.warmup_chunks + self.train_chunks

    def env_steps(self, chunk: int) -> int:
        """Transitions collected after `chunk` chunks, warm-up included."""
        return chunk * self.steps_per_chunk

    def post_warmup_steps(self, chunk: int) -> int:
        """Transitions counted in the budget after `chunk` chunks (the paper's x-axis)."""
        return max(0, chunk - self.warmup_chunks) * self.steps_per_chunk

    def is_warmup(self, chunk: int) -> bool:
        """Whether chunk index `chunk` (0-based) collects uniform-random warm-up data."""
        return chunk < self.warmup_chunks

    def eval_due(self, chunk: int) -> bool:
        """After `chunk` chunks: every `eval_every` post-warm-up transitions, and at the end."""
        done = chunk - self.warmup_chunks
        return done > 0 and (done % self.eval_every_chunks == 0 or chunk == self.total_chunks)

    def checkpoint_due(self, chunk: int) -> bool:
        """After `chunk` chunks: at the end of warm-up, every `checkpoint_every` post-warm-up
        transitions, and at the end."""
        done = chunk - self.warmup_chunks
        every = self.checkpoint_every_chunks
        return chunk == self.total_chunks or bool(every and done >= 0 and done % every == 0)


def make_schedule(cfg: TrainConfig) -> Schedule:
    """Round the protocol to whole chunks: warm-up rounds up (so the buffer can fill a batch and
    training starts on a chunk boundary); the budget after it rounds up to whole chunks."""
    n = cfg.num_envs
    train_iters = max(1, cfg.total_steps // n)
    chunk = min(cfg.chunk_iters, train_iters)
    warm_iters = math.ceil(max(cfg.warmup_steps, cfg.batch_size) / n)
    per_chunk = n * chunk
    return Schedule(
        chunk_iters=chunk,
        steps_per_chunk=per_chunk,
        warmup_chunks=math.ceil(warm_iters / chunk),
        train_chunks=math.ceil(train_iters / chunk),
        eval_every_chunks=max(1, round(cfg.eval_every / per_chunk)),
        checkpoint_every_chunks=(
            max(1, round(cfg.checkpoint_every / per_chunk)) if cfg.checkpoint_every else 0
        ),
    )
