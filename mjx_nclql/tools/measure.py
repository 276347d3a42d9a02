"""Measuring one training configuration, shared by `bench` and the device campaign.

`measure(cfg)` times, in one process and after compilation, the parts of a training chunk
apart (environment-only stepping, the Langevin sampler, the updates) and the whole chunk, for
the same num_envs / batch size / seeds, and returns the figures with ratios, time shares,
compile times, peak memory, and the matrix-product rate training reaches beside this
machine's matmul peak measured in the same run (`tools/flops.py`).
`protocol_estimate` extrapolates a whole protocol from them;
`account(cfg)` splits one training iteration into its parts, in milliseconds.

Every timed program draws fresh data each iteration, as training does (batches from a filled
replay buffer, observations that change): with a fixed input XLA may hoist work out of the
loop, and the figure would promise a speed training cannot have.
jax and the project's jax modules are imported where they are used, so the commands that
import this module answer `--help` at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import resource
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mjx_nclql.core.config import RunConfig
from mjx_nclql.tools.flops import MatmulCount, matmul_flops

if TYPE_CHECKING:
    import jax

    from mjx_nclql.algo.agent import Agent
    from mjx_nclql.runtime.build import Setup
    from mjx_nclql.runtime.trainer import TrainState


@dataclasses.dataclass(frozen=True)
class Timing:
    """A timed function: its first call (compile included) and the best later call, seconds."""

    first: float
    best: float

    @property
    def compile(self) -> float:
        return self.first - self.best


def timed(fn: Callable[[], Any], repeats: int) -> Timing:
    """Time `fn` once with its compile, then `repeats` times; the best later call counts."""
    import jax

    t = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return Timing(first, best)


def matmul_peak_gflops(size: int | None = None, repeats: int = 5) -> float:
    """The best rate (GFLOP/s) of one `size` x `size` float32 product on the default device,
    at the default precision (the critics' dtype and precision); 2048 on a CPU, 8192 on an
    accelerator, where smaller products do not fill it."""
    import jax
    import jax.numpy as jnp

    if size is None:
        size = 2048 if jax.default_backend() == "cpu" else 8192
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    product = jax.jit(jnp.matmul)
    return 2.0 * size**3 / timed(lambda: product(a, b), repeats).best / 1e9


def sample_matmul_rate(
    duration_s: float, every_s: float = 5.0, size: int | None = None
) -> list[tuple[float, float]]:
    """`matmul_peak_gflops` again and again for `duration_s`: [(seconds since start, GFLOP/s)].
    How steady the machine is: on a shared host the rate moves by tens of percent from one
    sample to the next, and every speed figure moves with it."""
    samples: list[tuple[float, float]] = []
    start = time.perf_counter()
    while True:
        samples.append((time.perf_counter() - start, matmul_peak_gflops(size)))
        if time.perf_counter() - start + every_s >= duration_s:
            return samples
        time.sleep(every_s)


def peak_memory_bytes() -> int | None:
    """The first device's peak memory in use, where the backend reports it."""
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"])
    return None


def reset_peak_rss() -> None:
    """Restart the kernel's peak-RSS count (Linux), so each configuration reports its own."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_bytes() -> int:
    """Peak resident memory of this process since the last reset (Linux), else since start."""
    with contextlib.suppress(OSError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def update_program(agent: Agent, batch_size: int, num_updates: int) -> Callable[[Any, jax.Array], Any]:
    """`num_updates` updates of one seed's agent state, each on a fresh random batch (its sizes
    are what matter for speed), as one scan: `(state, key) -> state`. For update latency
    without a replay buffer; `time_updates` draws from the buffer as training does."""
    import jax
    import jax.numpy as jnp

    from mjx_nclql.algo.batch import Batch

    obs_dim, act_dim, b = agent.obs_dim, agent.action_dim, batch_size

    def body(s: Any, key: jax.Array) -> tuple[Any, None]:
        k1, k2, k3, k4, k5 = jax.random.split(key, 5)
        batch = Batch(
            obs=jax.random.normal(k1, (b, obs_dim)),
            action=jax.random.uniform(k2, (b, act_dim), minval=-1, maxval=1),
            reward=jax.random.normal(k3, (b,)),
            next_obs=jax.random.normal(k4, (b, obs_dim)),
            terminated=jnp.zeros((b,)),
        )
        return agent.update(s, batch, k5)[0], None

    def updates(state: Any, key: jax.Array) -> Any:
        return jax.lax.scan(body, state, jax.random.split(key, num_updates))[0]

    return updates


def load_config(env: str, preset: str, algo: str, overrides: list[str]) -> RunConfig:
    """The same composition as the training CLI (Hydra), validated."""
    from mjx_nclql.core import cli_config

    return cli_config.compose(
        [*cli_config.env_overrides(env), f"preset={preset}", f"algo={algo}", *overrides]
    )


def measure(cfg: RunConfig, repeats: int = 3, profile_dir: str | None = None) -> dict[str, Any]:
    """All figures for one configuration (num_seeds seeds in one program)."""
    import jax

    from mjx_nclql.runtime.build import build
    from mjx_nclql.runtime.keys import seed_keys

    reset_peak_rss()
    setup = build(cfg)
    keys = seed_keys(cfg.seed, cfg.num_seeds)
    t = time.perf_counter()
    ts = jax.block_until_ready(setup.trainer.init(keys))
    init_s = time.perf_counter() - t
    env = time_env_only(setup, ts, keys, repeats)
    sampler = time_sampler(setup, ts, keys, repeats)
    ts, warm_first = warm_up(setup, ts)
    work = iteration_work(setup, ts)
    updates = time_updates(setup, ts, keys, repeats)
    train = time_training(setup, ts, repeats, profile_dir)  # last: the chunks consume `ts`
    return {
        **figures(setup, init_s, env, sampler, updates, warm_first, train),
        **work_figures(setup, work, updates, train, matmul_peak_gflops()),
    }


def time_env_only(setup: Setup, ts: TrainState, keys: jax.Array, repeats: int) -> Timing:
    """A chunk of the same vector env with uniform random actions and no learning: the
    simulation's own limit."""
    import jax

    from mjx_nclql.runtime.trainer import SEED_AXIS

    vec, n_envs, action_size = setup.trainer.vec, setup.config.train.num_envs, setup.env.action_size

    def env_chunk(vs: Any, key: jax.Array) -> Any:
        def body(vs: Any, k: jax.Array) -> tuple[Any, None]:
            a = jax.random.uniform(k, (n_envs, action_size), minval=-1.0, maxval=1.0)
            return vec.step(vs, a), None

        return jax.lax.scan(body, vs, jax.random.split(key, setup.schedule.chunk_iters))[0]

    env_fn = jax.jit(jax.vmap(env_chunk, axis_name=SEED_AXIS))
    env_state = ts.envs
    return timed(lambda: env_fn(env_state, keys), repeats)


def time_sampler(setup: Setup, ts: TrainState, keys: jax.Array, repeats: int) -> Timing:
    """One action for every env of every seed."""
    import jax
    import jax.numpy as jnp

    obs = ts.envs.obs.astype(jnp.float32)
    act_fn = jax.jit(jax.vmap(setup.agent.act))
    params = ts.agent.params
    return timed(lambda: act_fn(params, obs, keys), repeats)


def warm_up(setup: Setup, ts: TrainState) -> tuple[TrainState, float]:
    """One warm-up chunk, so the buffer holds data: (its state, seconds incl. compile)."""
    import jax

    t = time.perf_counter()
    ts = jax.block_until_ready(setup.trainer.warmup_chunk(ts)[0])
    return ts, time.perf_counter() - t


def scan_program(step: Callable[[Any, Any, jax.Array], Any], iters: int) -> Callable[..., Any]:
    """`(carry, data, keys) -> carry`: `iters` times `carry = step(carry, data, key)` with a
    fresh key each time, vmapped over seeds and jitted."""
    import jax

    from mjx_nclql.runtime.trainer import SEED_AXIS

    def program(carry: Any, data: Any, key: jax.Array) -> Any:
        return jax.lax.scan(lambda c, k: (step(c, data, k), None), carry, jax.random.split(key, iters))[0]

    return jax.jit(jax.vmap(program, axis_name=SEED_AXIS))


def time_updates(setup: Setup, ts: TrainState, keys: jax.Array, repeats: int) -> Timing:
    """A chunk's updates (`updates_per_step * chunk_iters`), each on a batch freshly drawn
    from the (warmed-up) replay buffer, exactly as training draws them."""
    trainer, train = setup.trainer, setup.config.train
    n_upd = train.updates_per_step * setup.schedule.chunk_iters
    program = scan_program(lambda s, buffer, k: trainer.sampled_update(s, buffer, k)[0], n_upd)
    agent_state, buffer = ts.agent, ts.buffer
    return timed(lambda: program(agent_state, buffer, keys), repeats)


@dataclasses.dataclass(frozen=True)
class TrainTiming:
    compile: float  # compiling the training chunk
    best: float  # the best timed training chunk
    program: Any  # the compiled training chunk


def time_training(setup: Setup, ts_w: TrainState, repeats: int, profile_dir: str | None) -> TrainTiming:
    """The full training chunk from a warmed-up state. Chunks donate their input state, so
    each call takes the state the previous one returned."""
    import jax

    trainer = setup.trainer
    state = {"ts": ts_w}

    def train_once() -> Any:
        state["ts"], summary = train_program(state["ts"])
        return summary

    t = time.perf_counter()
    train_program = trainer.train_chunk.lower(ts_w).compile()
    train_compile = time.perf_counter() - t
    jax.block_until_ready(train_once())  # the first call also allocates; not timed
    train_best = float("inf")
    with jax.profiler.trace(profile_dir) if profile_dir else contextlib.nullcontext():
        for _ in range(repeats):
            t = time.perf_counter()
            jax.block_until_ready(train_once())
            train_best = min(train_best, time.perf_counter() - t)
    return TrainTiming(train_compile, train_best, train_program)


def figures(
    setup: Setup,
    init_s: float,
    env: Timing,
    sampler: Timing,
    updates: Timing,
    warmup_first: float,
    train: TrainTiming,
) -> dict[str, Any]:
    """The measured times as throughputs, ratios and time shares of one training iteration."""
    import jax

    from envs.bench import program_bytes

    cfg = setup.config
    n_envs, seeds, iters = cfg.train.num_envs, cfg.num_seeds, setup.schedule.chunk_iters
    updates_per_iter = cfg.train.updates_per_step
    steps = n_envs * iters * seeds
    env_sps, train_sps = steps / env.best, steps / train.best
    per_iter = {"sampling": sampler.best, "env": env.best / iters, "updates": updates.best / iters}
    parts = sum(per_iter.values())
    sampler_cfg = cfg.algo.sampler
    return {
        "env": setup.env.name,
        "variant": cfg.algo.variant,
        "device": f"{jax.devices()[0].device_kind} ({jax.default_backend()})",
        "num_envs": n_envs,
        "num_seeds": seeds,
        "batch_size": cfg.train.batch_size,
        "updates_per_step": updates_per_iter,
        "chunk_iters": iters,
        "langevin_grad_evals": sampler_cfg.num_levels
        * sampler_cfg.steps_per_level
        * sampler_cfg.num_particles,
        "env_steps_per_s_env_only": env_sps,
        "actions_per_s_sampler": n_envs * seeds / sampler.best,
        "updates_per_s_update_only": updates_per_iter * iters * seeds / updates.best,
        "env_steps_per_s_train": train_sps,
        "updates_per_s_train": updates_per_iter * iters * seeds / train.best,
        "train_over_env_only": train_sps / env_sps,
        "share_sampling": per_iter["sampling"] / parts,
        "share_env": per_iter["env"] / parts,
        "share_updates": per_iter["updates"] / parts,
        "sum_of_parts_over_train": parts / (train.best / iters),
        "seconds_per_iteration_train": train.best / iters,
        "compile_s": {
            "init": init_s,
            "env_only": env.compile,
            "sampler": sampler.compile,
            "update": updates.compile,
            "warmup_chunk": warmup_first,  # its first call, compile included
            "train_chunk": train.compile,
        },
        "train_program_bytes": program_bytes(train.program),
        "peak_device_bytes": peak_memory_bytes(),
        "peak_host_rss_bytes": peak_rss_bytes(),
    }


@dataclasses.dataclass(frozen=True)
class IterationWork:
    """Matrix-product FLOPs of one seed's training iteration beyond the env step."""

    acting: MatmulCount  # the acting chain on the num_envs observations
    update: MatmulCount  # one update on a replay batch
    updates_per_step: int

    @property
    def flops(self) -> float:
        return self.acting.flops + self.updates_per_step * self.update.flops

    @property
    def exact(self) -> bool:
        return self.acting.exact and self.update.exact


def iteration_work(setup: Setup, ts: TrainState) -> IterationWork:
    """Count (trace, not run) the acting chain and one update of the first seed's state."""
    import jax
    import jax.numpy as jnp

    # The first seed's shapes (the seeds' programs are alike); `ts` may itself be shapes.
    one = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape[1:], x.dtype), ts)
    obs, key = jax.ShapeDtypeStruct(one.envs.obs.shape, jnp.float32), jax.random.key(0)
    return IterationWork(
        acting=matmul_flops(setup.agent.act, one.agent.params, obs, key),
        update=matmul_flops(
            lambda s, b, k: setup.trainer.sampled_update(s, b, k)[0], one.agent, one.buffer, key
        ),
        updates_per_step=setup.config.train.updates_per_step,
    )


def work_figures(
    setup: Setup, work: IterationWork, updates: Timing, train: TrainTiming, peak_gflops: float
) -> dict[str, Any]:
    """The matmul rates training and update-only reach, and their fraction of the peak
    measured in the same run (`tools/flops.py`)."""
    cfg = setup.config
    iters, seeds = setup.schedule.chunk_iters, cfg.num_seeds
    train_gflops = work.flops * iters * seeds / train.best / 1e9
    update_gflops = work.update.flops * work.updates_per_step * iters * seeds / updates.best / 1e9
    return {
        "matmul_gflop_per_update": work.update.flops / 1e9,
        "matmul_gflop_per_iteration": work.flops / 1e9,
        "matmul_count_exact": work.exact,
        "matmul_peak_gflops": peak_gflops,
        "train_gflops": train_gflops,
        "update_only_gflops": update_gflops,
        "train_fraction_of_peak": train_gflops / peak_gflops,
        "update_only_fraction_of_peak": update_gflops / peak_gflops,
    }


def protocol_estimate(fig: dict[str, Any], cfg: RunConfig) -> dict[str, float]:
    """Wall-clock of the whole protocol from the measured per-iteration time (no evals)."""
    t = cfg.train
    iters = t.total_steps / t.num_envs
    warm_iters = t.warmup_steps / t.num_envs
    per_iter = fig["seconds_per_iteration_train"]
    env_iter = fig["num_envs"] * fig["num_seeds"] / fig["env_steps_per_s_env_only"]
    seconds = iters * per_iter + warm_iters * env_iter  # warm-up is outside the budget
    return {"updates_per_run": iters * t.updates_per_step, "hours_per_program": seconds / 3600.0}


# The parts of one training iteration `account` times, in the order a step runs them.
ACCOUNT_PARTS = (
    ("env step", "the vector env's step, uniform actions (env-only)"),
    ("replay insert", "a warm-up iteration less the env step: insert, uniform actions"),
    ("acting chain", "the Langevin sampler on the num_envs observations"),
    ("replay sample", "one batch drawn from the buffer"),
    ("target", "the TD target: Langevin chain on the batch's next states, target critics"),
    ("TD step", "TD loss, its gradient and the optimiser step"),
    ("NC step", "noise-conditioning loss (with its frozen target), gradient, optimiser step"),
    ("Polyak", "target parameters moved towards the online ones"),
    ("diagnostics", "the update's reported statistics, the action-gradient norm on 64 rows"),
)


def account(cfg: RunConfig, repeats: int = 3) -> dict[str, Any]:
    """Milliseconds per training iteration of each part of `ACCOUNT_PARTS`, each timed as its
    own scanned program on fresh data, next to the measured training iteration; the parts of
    an update are counted `updates_per_step` times."""
    import jax

    from mjx_nclql.runtime.build import build
    from mjx_nclql.runtime.keys import seed_keys

    setup = build(cfg)
    keys = seed_keys(cfg.seed, cfg.num_seeds)
    ts, _ = warm_up(setup, jax.block_until_ready(setup.trainer.init(keys)))
    iters = setup.schedule.chunk_iters
    per_iter = {
        "env step": time_env_only(setup, ts, keys, repeats).best / iters,
        "replay insert": _time_warmup_chunks(setup, ts, repeats) / iters,
    }
    per_iter["replay insert"] -= per_iter["env step"]
    for name, (step, carry, data) in _update_part_programs(setup, ts).items():
        per_iter[name] = _time_scanned(scan_program(step, iters), carry, data, keys, repeats) / iters
    for name in _SAMPLING_PARTS & per_iter.keys():  # each drew its batch: not its own cost
        per_iter[name] -= per_iter["replay sample"]
    upd = cfg.train.updates_per_step
    per_iter = {
        k: 1e3 * v * (upd if k not in ("env step", "replay insert", "acting chain") else 1)
        for k, v in per_iter.items()
    }
    train = time_training(setup, ts, repeats, None)
    total = 1e3 * train.best / iters
    return {
        "env": setup.env.name,
        "num_seeds": cfg.num_seeds,
        "ms_per_iteration": per_iter,
        "sum_of_parts_ms": sum(per_iter.values()),
        "train_iteration_ms": total,
        "sum_over_train": sum(per_iter.values()) / total,
    }


_SAMPLING_PARTS = {"target", "TD step", "NC step", "diagnostics"}


def _time_scanned(program: Callable[..., Any], carry: Any, data: Any, keys: jax.Array, repeats: int) -> float:
    return timed(lambda: program(carry, data, keys), repeats).best


def _time_warmup_chunks(setup: Setup, ts: TrainState, repeats: int) -> float:
    """Best seconds of a warm-up chunk (compiled already), on a copy of `ts` it may consume."""
    import jax
    import jax.numpy as jnp

    state = {"ts": jax.tree.map(jnp.copy, ts)}

    def chunk() -> Any:
        state["ts"], summary = setup.trainer.warmup_chunk(state["ts"])
        return summary

    return timed(chunk, repeats).best


def _update_part_programs(setup: Setup, ts: TrainState) -> dict[str, tuple[Callable, Any, Any]]:
    """name -> (step(carry, data, key) -> carry, carry, data) for the parts after the env step.
    Every part but "acting chain" draws its batch from the buffer (its cost is subtracted)."""
    import jax
    import jax.numpy as jnp

    from mjx_nclql.algo.critic import polyak

    agent, trainer = setup.agent, setup.trainer

    def batch_of(buffer: Any, key: jax.Array) -> Any:
        return trainer.buffer.sample(buffer, key).experience

    def acting(total: jax.Array, data: Any, key: jax.Array) -> jax.Array:
        params, obs = data
        k1, k2 = jax.random.split(key)
        obs = obs + 1e-3 * jax.random.normal(k1, obs.shape)  # observations change every step
        return total + agent.act(params, obs, k2).sum()

    def sample(total: jax.Array, buffer: Any, key: jax.Array) -> jax.Array:
        return total + batch_of(buffer, key).reward.sum()

    def target(total: jax.Array, data: Any, key: jax.Array) -> jax.Array:
        state, buffer = data
        k1, k2 = jax.random.split(key)
        return total + agent.td_target(state, batch_of(buffer, k1), k2)[1].sum()

    def td_step(carry: Any, buffer: Any, key: jax.Array) -> Any:
        batch = batch_of(buffer, key)
        objective = agent.td_objective(batch, batch.reward)  # a fresh target of the same shape
        return agent.optimiser_step(objective, *carry)[:2]

    def nc_step(carry: Any, buffer: Any, key: jax.Array) -> Any:
        k1, k2, k3 = jax.random.split(key, 3)
        batch = batch_of(buffer, k1)
        return agent.optimiser_step(agent.nc_objective(carry[0], batch, k2, k3), *carry)[:2]

    def averaging(target_params: Any, params: Any, key: jax.Array) -> Any:
        return polyak(target_params, params, agent.cfg.tau)

    def diagnostics(total: jax.Array, data: Any, key: jax.Array) -> jax.Array:
        params, buffer = data
        batch = batch_of(buffer, key)
        q = jnp.stack([batch.reward] * agent.cfg.critic.num_critics)
        stats = agent.diagnostics(params, batch, q, batch.reward, batch.action)
        return total + sum(stats.values())

    a, zero = ts.agent, jnp.zeros(ts.agent.updates.shape, jnp.float32)
    parts = {
        "acting chain": (acting, zero, (a.params, ts.envs.obs.astype(jnp.float32))),
        "replay sample": (sample, zero, ts.buffer),
        "target": (target, zero, (a, ts.buffer)),
        "TD step": (td_step, (a.params, a.opt_state), ts.buffer),
        "NC step": (nc_step, (a.params, a.opt_state), ts.buffer),
        "Polyak": (averaging, a.target_params, a.params),
        "diagnostics": (diagnostics, zero, (a.params, ts.buffer)),
    }
    if not agent.cfg.noise_conditioned:
        del parts["NC step"]
    return parts
