"""The run loop: `run(cfg)` trains (or resumes) one run, the whole program without Hydra.

It builds the run's parts, then drives the jitted chunks of the `Trainer`; between chunks
Python only logs, evaluates and checkpoints, through `Outputs`. The command line
(`python -m mjx_nclql.train`, Hydra) is `mjx_nclql/train.py`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mjx_nclql.core.config import ConfigError, RunConfig
from mjx_nclql.core.errors import MjxNclqlError

if TYPE_CHECKING:  # jax and everything on it load inside run(): Hydra's --help answers at once
    from mjx_nclql.runtime.distributed import SeedLayout
    from mjx_nclql.runtime.outputs import Outputs, Record
    from mjx_nclql.runtime.trainer import ChunkSummary, Trainer, TrainState


class NonFiniteError(MjxNclqlError, RuntimeError):
    """Losses or parameters became NaN/inf; the last good checkpoint is kept."""


@dataclasses.dataclass
class RunResult:
    run_dir: str
    status: str  # "finished" | "interrupted"
    state: TrainState
    records: list[Record]


def run(
    cfg: RunConfig, *, max_chunks: int | None = None, progress_fn: Callable[[Record], None] | None = None
) -> RunResult:
    """Train (or, with `cfg.resume`, continue) one run. `max_chunks` stops after that many
    chunks of this call, checkpointed, as a signal would; `progress_fn(record)` sees every
    metrics record (training chunks and evaluations) as it is logged."""
    import numpy as np

    from envs.registry import capabilities
    from mjx_nclql.runtime import compile_cache, distributed, keys
    from mjx_nclql.runtime.build import build
    from mjx_nclql.runtime.outputs import Outputs
    from mjx_nclql.runtime.run_dir import for_resume, open_run_dir
    from mjx_nclql.runtime.stopping import StopFlag, wait_ready

    cfg = for_resume(cfg)
    distributed.initialize(cfg.distributed)  # before any JAX computation
    compile_cache.enable(cfg.compile_cache)  # before the first compilation
    setup = build(cfg)
    if cfg.log.render and not capabilities(cfg.env.name).mujoco_model:
        raise ConfigError(f"log.render: env {cfg.env.name!r} has no MuJoCo model to render")
    layout = distributed.seed_layout(cfg)
    distributed.check_memory(
        setup.replay_bytes(), layout, f"train.buffer_size={cfg.train.buffer_size} x num_seeds={cfg.num_seeds}"
    )
    run_dir = open_run_dir(cfg, multi_host=distributed.multi_host())
    trainer, sched = setup.trainer, setup.schedule
    with Outputs(setup, run_dir, progress_fn) as out, StopFlag(announce=out.primary) as stop:
        out.banner(layout)
        chunk, ts = out.start(trainer.init(layout.put(keys.seed_keys(cfg.seed, cfg.num_seeds))))
        first, status = chunk, "finished"
        while chunk < sched.total_chunks:
            trainer.compile_once(trainer.chunk_name(chunk), ts, announce=out.compiling)
            started = time.time()
            ts, summary = trainer.run_chunk(ts, chunk)
            wait_ready(summary)
            summary, updates = distributed.to_host((summary, ts.agent.updates))
            updates, chunk = int(np.asarray(updates)[0]), chunk + 1
            stop.chunk_seconds = time.time() - started
            out.chunk_done(chunk, summary, updates, stop.chunk_seconds)
            check_finite(summary, chunk, out)
            if sched.eval_due(chunk):
                _evaluate(cfg, trainer, layout, ts.agent.params, chunk, updates, out)
            signalled = distributed.any_process(stop.signal is not None)  # all hosts agree
            stopping = chunk < sched.total_chunks and (
                signalled or (max_chunks is not None and chunk - first >= max_chunks)
            )
            if sched.checkpoint_due(chunk) or stopping:
                out.checkpoint(chunk, ts)
            if stopping:
                status = "interrupted"
                out.say(
                    f"\nstopped by {'a signal' if signalled else 'max_chunks'} at chunk {chunk}; "
                    f"checkpoint saved; resume with resume={run_dir}"
                )
                break
        out.finished(status, chunk)
        return RunResult(run_dir=run_dir, status=status, state=ts, records=out.records())


def _evaluate(
    cfg: RunConfig, trainer: Trainer, layout: SeedLayout, params: Any, chunk: int, updates: int, out: Outputs
) -> None:
    """The in-training evaluation after `chunk`: each seed's episodes with the evaluation sampler."""
    from mjx_nclql.runtime import distributed, keys

    eval_keys = layout.put(keys.eval_keys(cfg.seed, cfg.num_seeds, chunk))
    trainer.compile_once("evaluate", params, eval_keys, announce=out.compiling)
    stats = distributed.to_host(trainer.evaluate(params, eval_keys))
    out.evaluation(chunk, stats, updates, params)


def check_finite(summary: ChunkSummary, chunk: int, out: Outputs) -> None:
    """Stop at the first non-finite parameter or loss, before it is checkpointed."""
    import numpy as np

    finite = np.asarray(summary.params_finite)
    bad = [k for k, v in summary.losses.items() if not np.all(np.isfinite(np.asarray(v, float)))]
    if np.all(finite) and not bad:
        return
    kept = out.checkpoints.steps()[-1:] or "none"
    raise NonFiniteError(
        f"non-finite {'parameters' if not np.all(finite) else bad} at chunk {chunk} "
        f"({out.schedule.env_steps(chunk):,} steps) in seed(s) "
        f"{np.flatnonzero(~finite).tolist() or 'all'}; the run is stopped and the last good "
        f"checkpoint ({kept}) is kept in {out.checkpoints.directory}"
    )
