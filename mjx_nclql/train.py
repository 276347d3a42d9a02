"""Command line: `python -m mjx_nclql.train env=ant [key=value ...]` (Hydra).

`run(cfg)` is the whole program without Hydra: validate, build, then drive the jitted chunks
of `Trainer` from Python, which only logs, evaluates and checkpoints between chunks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from mjx_nclql import compile_cache, distributed
from mjx_nclql.agent import Agent
from mjx_nclql.checkpoint import Checkpointer, CheckpointError
from mjx_nclql.config import ConfigError, RunConfig, from_dict, to_dict
from mjx_nclql.logger import MetricsLogger
from mjx_nclql.trainer import Trainer, TrainState, replay_bytes

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "configs")


class NonFiniteError(RuntimeError):
    """Losses or parameters became NaN/inf; the last good checkpoint is kept."""


@dataclasses.dataclass
class RunResult:
    run_dir: str
    status: str  # "finished" | "interrupted"
    state: TrainState
    records: list[dict[str, Any]]
    trainer: Trainer


def make_env(cfg: RunConfig) -> Any:
    """The MJX task `env.name` (or an analytic probe `probe_<kind>`, for checks)."""
    import envs
    from mjx_nclql.probes import ProbeEnv

    try:
        if cfg.env.name.startswith("probe_"):
            return ProbeEnv(cfg.env.name.removeprefix("probe_"), **cfg.env.options)
        return envs.make(cfg.env.name, **cfg.env.options)
    except TypeError as err:
        raise ConfigError(f"env.options: {err}") from err
    except ValueError as err:
        raise ConfigError(f"env: {err}") from err


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def select_devices(cfg: RunConfig) -> list[Any]:
    """Devices to shard the seed axis over; num_seeds must split evenly across them."""
    devices = jax.devices()
    if jax.process_count() > 1:  # multi-host: the seed axis spans every process's devices
        if cfg.devices not in (0, len(devices)) or cfg.num_seeds % len(devices):
            raise ConfigError(
                f"a run over {jax.process_count()} processes shards num_seeds over all "
                f"{len(devices)} devices: num_seeds ({cfg.num_seeds}) must be a multiple of "
                f"{len(devices)} and devices must be 0, got {cfg.devices}"
            )
        return devices
    if cfg.devices == 0:  # all: the most devices that split the seeds evenly
        count = max(d for d in range(1, len(devices) + 1) if cfg.num_seeds % d == 0)
        return devices[:count]
    if cfg.devices > len(devices):
        raise ConfigError(f"devices={cfg.devices} but only {len(devices)} are visible")
    devices = devices[: cfg.devices]
    if cfg.num_seeds % len(devices):
        raise ConfigError(
            f"num_seeds ({cfg.num_seeds}) must be divisible by the device count "
            f"({len(devices)}): the seed axis is sharded across devices; set devices=N"
        )
    return devices


def check_memory(cfg: RunConfig, obs_dim: int, act_dim: int, devices: list[Any]) -> int:
    """Refuse a replay buffer that cannot fit in device memory (before any compile)."""
    need = replay_bytes(obs_dim, act_dim, cfg.train.buffer_size, cfg.num_seeds)
    stats = jax.local_devices()[0].memory_stats() or {}
    limit = stats.get("bytes_limit")
    if limit is None:  # CPU: host memory
        limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    per_device = need / len(devices)
    if per_device > 0.8 * limit:
        raise ConfigError(
            f"train.buffer_size={cfg.train.buffer_size} x num_seeds={cfg.num_seeds} needs "
            f"{_gib(per_device)} of replay per device but only {_gib(limit)} is available: "
            "lower train.buffer_size or num_seeds, or add devices"
        )
    return need


def _resolve_run_dir(cfg: RunConfig) -> str:
    if cfg.run_dir:
        return os.path.abspath(cfg.run_dir)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.abspath(os.path.join("runs", f"{cfg.env.name}-{cfg.algo.variant}-s{cfg.seed}-{stamp}"))


def load_run_config(run_dir: str) -> RunConfig:
    path = os.path.join(run_dir, "config.yaml")
    if not os.path.isfile(path):
        raise ConfigError(f"{path} not found; is {run_dir!r} a run directory?")
    with open(path) as f:
        return from_dict(RunConfig, yaml.safe_load(f))


def _write_config(run_dir: str, cfg: RunConfig) -> None:
    tmp = os.path.join(run_dir, "config.yaml.tmp")
    with open(tmp, "w") as f:
        yaml.safe_dump(to_dict(cfg), f, sort_keys=False)
    os.replace(tmp, os.path.join(run_dir, "config.yaml"))


def _truncate_metrics(path: str, max_env_steps: int) -> None:
    """On resume, drop records written after the restored checkpoint (they are redone)."""
    if not os.path.exists(path):
        return
    import json

    with open(path) as f:
        keep = [line for line in f if line.strip() and json.loads(line)["env_steps"] <= max_env_steps]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(keep)
    os.replace(tmp, path)


class _StopFlag:
    """SIGINT/SIGTERM ask the loop to checkpoint at the next chunk boundary and exit; the first
    says so at once, a second stops at once (the last checkpoint stays valid: orbax commits a
    checkpoint by renaming a finished directory)."""

    def __init__(self, announce: bool = True) -> None:
        self.signal: int | None = None
        self.chunk_seconds: float | None = None  # the loop's latest chunk time, for the message
        self.announce = announce
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: no handlers
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:  # second signal: give up immediately
            raise KeyboardInterrupt
        self.signal = signum
        if self.announce:
            when = f" (about {self.chunk_seconds:.0f} s)" if self.chunk_seconds else ""
            print(f"\n{signal.Signals(signum).name} received: stopping after the current chunk"
                  f"{when} with a checkpoint; send it again to stop now (the last checkpoint "
                  "stays valid)", file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _wait(tree: Any) -> None:
    """Block until a dispatched chunk is done, returning to Python often so that a signal
    handler runs at once (inside XLA's own wait it would run only when the chunk ends)."""
    leaves = [x for x in jax.tree.leaves(tree) if isinstance(x, jax.Array)]
    while not all(x.is_ready() for x in leaves):
        time.sleep(0.05)


def run(
    cfg: RunConfig,
    *,
    max_chunks: int | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> RunResult:
    """Train (or resume) one run. `max_chunks` stops early after that many chunks of this call
    (with a checkpoint), as an interruption would; `on_chunk(i)` is called after chunk i."""
    if cfg.resume:
        resume_dir = os.path.abspath(cfg.resume)
        # The saved config, but this invocation's process layout and compile cache.
        cfg = dataclasses.replace(load_run_config(resume_dir), resume=resume_dir,
                                  run_dir=resume_dir, distributed=cfg.distributed,
                                  compile_cache=cfg.compile_cache)
    distributed.initialize(cfg.distributed)  # before any JAX computation
    compile_cache.enable(cfg.compile_cache)  # before the first compilation
    primary = distributed.is_primary()

    def say(*args: Any, **kwargs: Any) -> None:  # console output from process 0 only
        if primary:
            print(*args, **kwargs)

    if jax.process_count() > 1 and not cfg.run_dir:
        raise ConfigError("a multi-host run needs an explicit run_dir= on a filesystem all hosts "
                          "share (the default name carries each host's own clock)")
    env = make_env(cfg)
    devices = select_devices(cfg)
    need = check_memory(cfg, env.observation_size, env.action_size, devices)
    agent = Agent(cfg.algo, env.observation_size, env.action_size)
    trainer = Trainer(env, agent, cfg.train, cfg.algo.batch_size)
    sched = trainer.schedule
    run_dir = _resolve_run_dir(cfg)
    if not cfg.resume and os.path.exists(os.path.join(run_dir, "config.yaml")):
        raise ConfigError(
            f"run_dir {run_dir} already holds a run; pass resume={run_dir} to continue it or "
            "choose another run_dir"
        )
    distributed.barrier("run_dir checked")  # before process 0 writes into it
    os.makedirs(run_dir, exist_ok=True)

    per_chunk = sched.steps_per_chunk
    total_steps = sched.env_steps(sched.total_chunks)
    kind = devices[0].device_kind
    hosts = f" on {jax.process_count()} hosts" if jax.process_count() > 1 else ""
    say(
        f"mjx_nclql | {cfg.algo.variant} on {env.name} | device {kind} x{len(devices)} "
        f"({jax.default_backend()}){hosts} | num_envs {cfg.train.num_envs} | seeds {cfg.num_seeds} | "
        f"replay {_gib(need)} ({cfg.train.buffer_size:,} x {cfg.num_seeds}) | "
        f"{sched.env_steps(sched.warmup_chunks):,} warm-up + "
        f"{sched.post_warmup_steps(sched.total_chunks):,} steps/seed in {sched.total_chunks} chunks "
        f"of {per_chunk:,} | {run_dir}",
        flush=True,
    )

    sharding = None
    if len(devices) > 1:
        mesh = jax.sharding.Mesh(np.array(devices), ("seed",))
        sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("seed"))
    ts = trainer.init(distributed.shard_like_seeds(trainer.seed_keys(cfg.seed, cfg.num_seeds),
                                                   sharding))
    ckpt = Checkpointer(os.path.join(run_dir, "checkpoints"), keep=cfg.train.keep_checkpoints)
    start_chunk = 0
    if cfg.resume and ckpt.steps():
        start_chunk, ts = ckpt.restore_latest(ts)
        say(f"resumed from checkpoint at chunk {start_chunk} ({sched.env_steps(start_chunk):,} steps)")
    elif cfg.resume:  # stopped before its first checkpoint (e.g. killed while compiling)
        say(f"no checkpoint in {ckpt.directory} yet: starting the run afresh from its saved config")
    if cfg.resume and primary:
        _truncate_metrics(os.path.join(run_dir, "metrics.jsonl"), sched.env_steps(start_chunk))
    elif primary:
        _write_config(run_dir, cfg)
    logger = MetricsLogger(
        run_dir, to_dict(cfg), wandb_mode=cfg.log.wandb_mode, project=cfg.log.wandb_project,
        entity=cfg.log.wandb_entity, plot=cfg.log.plot, resume=bool(cfg.resume), enabled=primary,
    )
    eval_base = jnp.stack([jax.random.PRNGKey(10_000_019 + cfg.seed + i) for i in range(cfg.num_seeds)])

    from tqdm import tqdm

    bar = tqdm(total=total_steps, initial=start_chunk * per_chunk, unit="step", unit_scale=True,
               disable=not (cfg.log.progress and primary), dynamic_ncols=True, file=sys.stdout)
    status = "finished"
    last_eval = "-"
    t0 = time.time()
    steps_done = 0
    chunk = start_chunk
    try:
        with _StopFlag(announce=primary) as stop:
            while chunk < sched.total_chunks:
                warm = sched.is_warmup(chunk)
                t = time.time()
                ts, summary = (trainer.warmup_chunk if warm else trainer.train_chunk)(ts)
                _wait(summary)
                summary, updates = distributed.to_host((summary, ts.agent.updates))
                updates = int(np.asarray(updates)[0])
                elapsed = time.time() - t
                stop.chunk_seconds = elapsed
                chunk += 1
                if on_chunk is not None:  # e.g. a test's signal arriving mid-bookkeeping
                    on_chunk(chunk)
                steps_done += per_chunk
                env_steps = sched.env_steps(chunk)
                steps = {"env_steps": env_steps, "post_warmup_steps": sched.post_warmup_steps(chunk)}
                record: dict[str, Any] = {
                    "kind": "train", "chunk": chunk, **steps, "updates": updates,
                    "phase": "warmup" if warm else "train", "wall_time": time.time() - t0,
                    "chunk_seconds": elapsed, "steps_per_s": per_chunk * cfg.num_seeds / elapsed,
                }
                eps = np.asarray(summary.pop("episodes"))
                rsum = np.asarray(summary.pop("episode_return_sum"))
                lsum = np.asarray(summary.pop("episode_length_sum"))
                with np.errstate(invalid="ignore", divide="ignore"):
                    record["train_return"] = np.where(eps > 0, rsum / np.maximum(eps, 1), np.nan)
                    record["train_length"] = np.where(eps > 0, lsum / np.maximum(eps, 1), np.nan)
                finite = np.asarray(summary.pop("params_finite"))
                record.update(summary)
                logger.log(record)
                bad = [k for k, v in summary.items() if not np.all(np.isfinite(np.asarray(v, float)))]
                if not np.all(finite) or bad:
                    raise NonFiniteError(
                        f"non-finite {'parameters' if not np.all(finite) else bad} at chunk "
                        f"{chunk} ({env_steps:,} steps) in seed(s) "
                        f"{np.flatnonzero(~finite).tolist() or 'all'}; the run is stopped and the "
                        f"last good checkpoint ({ckpt.steps()[-1:] or 'none'}) is kept in {ckpt.directory}"
                    )
                last = chunk == sched.total_chunks
                if sched.eval_due(chunk):
                    ekeys = distributed.shard_like_seeds(
                        jax.vmap(jax.random.fold_in, in_axes=(0, None))(eval_base, chunk), sharding)
                    stats = distributed.to_host(trainer.evaluate(ts.agent.params, ekeys))
                    returns = np.asarray(stats.returns)
                    logger.log({"kind": "eval", "chunk": chunk, **steps,
                                "updates": updates, "wall_time": time.time() - t0,
                                "eval_return_mean": returns.mean(1),
                                "eval_return_std": returns.std(1),
                                "eval_length_mean": np.asarray(stats.lengths).mean(1)})
                    logger.plot_curve(f"{cfg.algo.variant} on {env.name}")
                    last_eval = f"{returns.mean():.1f}"
                due = sched.checkpoint_due(chunk)
                signalled = distributed.any_process(stop.signal is not None)  # all hosts agree
                interrupted = signalled or (
                    max_chunks is not None and chunk - start_chunk >= max_chunks
                )
                if due or last or interrupted:
                    ckpt.save(chunk, ts, ts.agent.params)
                bar.update(per_chunk)
                bar.set_postfix(updates=updates, sps=f"{record['steps_per_s']:.0f}",
                                eval=last_eval, phase=record["phase"])
                if interrupted and not last:
                    status = "interrupted"
                    why = "a signal" if signalled else "max_chunks"
                    say(f"\nstopped by {why} at chunk {chunk}; checkpoint saved; resume with "
                          f"resume={run_dir}", flush=True)
                    break
    finally:
        bar.close()
        logger.close()
        ckpt.close()
    rate = steps_done * cfg.num_seeds / max(time.time() - t0, 1e-9)
    say(f"{status}: {chunk * per_chunk:,} steps/seed; {rate:,.0f} env steps/s over all seeds "
          f"(this process, compile included); outputs in {run_dir}", flush=True)
    return RunResult(run_dir=run_dir, status=status, state=ts, records=logger.records(),
                     trainer=trainer)


def quiet_libraries() -> None:
    """Orbax/absl log every checkpoint step at INFO; keep the console for the progress bar."""
    import logging

    for name in ("absl", "orbax", "jax._src.xla_bridge"):
        logging.getLogger(name).setLevel(logging.WARNING)


def config_from_hydra(dcfg: Any) -> RunConfig:
    from omegaconf import OmegaConf

    return from_dict(RunConfig, OmegaConf.to_container(dcfg, resolve=True))


def _main() -> None:
    import hydra

    @hydra.main(version_base=None, config_path=os.path.abspath(CONFIG_DIR), config_name="config")
    def entry(dcfg: Any) -> None:
        quiet_libraries()
        try:
            cfg = config_from_hydra(dcfg)
            result = run(cfg)
        except ConfigError as err:
            print(f"config error: {err}", file=sys.stderr)
            sys.exit(2)
        except (NonFiniteError, CheckpointError) as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)
        if result.status == "interrupted":
            sys.exit(130)

    entry()


if __name__ == "__main__":
    _main()
