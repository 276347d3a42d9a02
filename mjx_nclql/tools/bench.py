"""Throughput benchmark: `python -m mjx_nclql.bench --env ant --preset paper`.

Measures, in one process and after compilation: environment-only stepping (the simulation
limit), the Langevin sampler, the update, and the full training chunk, for the same
num_envs / batch size / seeds; then ratios, time shares, compile times and peak memory, and
estimates the wall-clock of a whole protocol. Prints a table and JSON.

jax and the project's jax modules are imported where they are used, so `--help` answers at once.

    python -m mjx_nclql.bench --env ant --preset paper
    python -m mjx_nclql.bench --env hopper,ant --num-seeds 1,5 --json bench.json
    python -m mjx_nclql.bench --env halfcheetah train.num_envs=1024   # with a Hydra override
    python -m mjx_nclql.bench --suite device --out docs/device        # the accelerator campaign
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mjx_nclql.config import ConfigError, RunConfig

if TYPE_CHECKING:
    import jax

    from mjx_nclql.agent import Agent


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """(first call incl. compile, best of `repeats` later calls) in seconds."""
    import jax

    t = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t)
    return first, best


def _peak_memory_bytes() -> int | None:
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    if "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"])
    return None


def _reset_peak_rss() -> None:
    """Restart the kernel's peak-RSS count (Linux), so each configuration reports its own."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process since the last reset (Linux), else since start."""
    with contextlib.suppress(OSError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def update_program(agent: Agent, batch_size: int, num_updates: int) -> Callable[[Any, jax.Array], Any]:
    """`num_updates` updates of one seed's agent state on a fixed random batch (its sizes are
    what matter for speed), as one scan: `(state, key) -> state`."""
    import jax
    import jax.numpy as jnp

    from mjx_nclql.agent import Batch

    obs_dim, act_dim, b = agent.obs_dim, agent.action_dim, batch_size

    def updates(state: Any, key: jax.Array) -> Any:
        k1, k2, k3 = jax.random.split(key, 3)
        batch = Batch(
            obs=jax.random.normal(k1, (b, obs_dim)),
            action=jax.random.uniform(k2, (b, act_dim), minval=-1, maxval=1),
            reward=jax.random.normal(k3, (b,)),
            next_obs=jax.random.normal(k1, (b, obs_dim)),
            terminated=jnp.zeros((b,)),
        )

        def body(s: Any, k: jax.Array) -> tuple[Any, None]:
            return agent.update(s, batch, k)[0], None

        return jax.lax.scan(body, state, jax.random.split(key, num_updates))[0]

    return updates


def load_config(env: str, preset: str, algo: str, overrides: list[str]) -> RunConfig:
    """The same composition as the training CLI (Hydra), validated."""
    from mjx_nclql import cli_config

    # A probe problem (probe_<kind>) reuses a task's group entry with its name replaced.
    env_args = [f"env={env}"] if not env.startswith("probe_") else [f"env.name={env}"]
    return cli_config.compose([*env_args, f"preset={preset}", f"algo={algo}", *overrides])


def measure(cfg: RunConfig, repeats: int = 3, profile_dir: str | None = None) -> dict[str, Any]:
    """All figures for one configuration (num_seeds seeds in one program)."""
    import jax
    import jax.numpy as jnp

    from envs.bench import program_bytes
    from mjx_nclql.build import build
    from mjx_nclql.keys import seed_keys
    from mjx_nclql.trainer import SEED_AXIS

    _reset_peak_rss()
    setup = build(cfg)
    env, agent, trainer = setup.env, setup.agent, setup.trainer
    n_envs, seeds = cfg.train.num_envs, cfg.num_seeds
    iters = trainer.schedule.chunk_iters
    updates_per_iter = cfg.train.updates_per_step
    keys = seed_keys(cfg.seed, seeds)

    t = time.perf_counter()
    ts = jax.block_until_ready(trainer.init(keys))
    init_s = time.perf_counter() - t

    # 1. environment only: the same vector env, uniform random actions, no learning.
    vec = trainer.vec

    def env_chunk(vs: Any, key: jax.Array) -> Any:
        def body(vs: Any, k: jax.Array) -> tuple[Any, None]:
            a = jax.random.uniform(k, (n_envs, env.action_size), minval=-1.0, maxval=1.0)
            return vec.step(vs, a), None

        return jax.lax.scan(body, vs, jax.random.split(key, iters))[0]

    env_fn = jax.jit(jax.vmap(env_chunk, axis_name=SEED_AXIS))
    env_state = ts.envs
    env_first, env_best = _timed(lambda: env_fn(env_state, keys), repeats)

    # 2. sampler: one action per env for every env, all seeds.
    obs = ts.envs.obs.astype(jnp.float32)
    act_fn = jax.jit(jax.vmap(agent.act))
    params = ts.agent.params
    act_first, act_best = _timed(lambda: act_fn(params, obs, keys), repeats)

    # 3. updates: `updates_per_iter * iters` updates on fixed random batches.
    b = cfg.train.batch_size
    n_upd = updates_per_iter * iters
    updates = update_program(agent, b, n_upd)
    upd_fn = jax.jit(jax.vmap(updates))
    agent_state = ts.agent
    upd_first, upd_best = _timed(lambda: upd_fn(agent_state, keys), repeats)

    # 4. full training chunk (warm-up first so the buffer holds data). Chunks donate their
    # input state, so each call takes the state the previous one returned.
    t = time.perf_counter()
    ts_w = jax.block_until_ready(trainer.warmup_chunk(ts)[0])
    warm_first = time.perf_counter() - t
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

    steps = n_envs * iters * seeds
    env_sps = steps / env_best
    train_sps = steps / train_best
    sample_s_per_iter = act_best
    env_s_per_iter = env_best / iters
    upd_s_per_iter = upd_best / iters
    parts = sample_s_per_iter + env_s_per_iter + upd_s_per_iter
    train_s_per_iter = train_best / iters
    return {
        "env": env.name,
        "variant": cfg.algo.variant,
        "device": f"{jax.devices()[0].device_kind} ({jax.default_backend()})",
        "num_envs": n_envs,
        "num_seeds": seeds,
        "batch_size": b,
        "updates_per_step": updates_per_iter,
        "chunk_iters": iters,
        "langevin_grad_evals": cfg.algo.sampler.num_levels * cfg.algo.sampler.steps_per_level
        * cfg.algo.sampler.num_particles,
        "env_steps_per_s_env_only": env_sps,
        "actions_per_s_sampler": n_envs * seeds / act_best,
        "updates_per_s_update_only": n_upd * seeds / upd_best,
        "env_steps_per_s_train": train_sps,
        "updates_per_s_train": updates_per_iter * iters * seeds / train_best,
        "train_over_env_only": train_sps / env_sps,
        "share_sampling": sample_s_per_iter / parts,
        "share_env": env_s_per_iter / parts,
        "share_updates": upd_s_per_iter / parts,
        "sum_of_parts_over_train": parts / train_s_per_iter,
        "seconds_per_iteration_train": train_s_per_iter,
        "compile_s": {
            "init": init_s,
            "env_only": env_first - env_best,
            "sampler": act_first - act_best,
            "update": upd_first - upd_best,
            "warmup_chunk": warm_first,
            "train_chunk": train_compile,
        },
        "train_program_bytes": program_bytes(train_program),
        "peak_device_bytes": _peak_memory_bytes(),
        "peak_host_rss_bytes": _peak_rss_bytes(),
    }


def protocol_estimate(fig: dict[str, Any], cfg: RunConfig) -> dict[str, float]:
    """Wall-clock of the whole protocol from the measured per-iteration time (no evals)."""
    t = cfg.train
    iters = t.total_steps / t.num_envs
    warm_iters = t.warmup_steps / t.num_envs
    per_iter = fig["seconds_per_iteration_train"]
    env_iter = fig["num_envs"] * fig["num_seeds"] / fig["env_steps_per_s_env_only"]
    seconds = iters * per_iter + warm_iters * env_iter  # warm-up is outside the budget
    return {"updates_per_run": iters * t.updates_per_step,
            "hours_per_program": seconds / 3600.0}


def _table(rows: list[dict[str, Any]]) -> str:
    cols = [
        ("env", "env", "{}"), ("seeds", "num_seeds", "{}"), ("envs", "num_envs", "{}"),
        ("batch", "batch_size", "{}"), ("env-only sps", "env_steps_per_s_env_only", "{:,.0f}"),
        ("sampler act/s", "actions_per_s_sampler", "{:,.0f}"),
        ("update-only upd/s", "updates_per_s_update_only", "{:,.1f}"),
        ("train sps", "env_steps_per_s_train", "{:,.0f}"),
        ("train upd/s", "updates_per_s_train", "{:,.1f}"),
        ("train/env", "train_over_env_only", "{:.1%}"),
        ("share samp/env/upd", None, None), ("compile s", None, None), ("peak mem", None, None),
    ]
    head = "| " + " | ".join(c[0] for c in cols) + " |"
    lines = [head, "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for _, key, fmt in cols[:-3]:
            cells.append(fmt.format(r[key]))
        cells.append(f"{r['share_sampling']:.0%}/{r['share_env']:.0%}/{r['share_updates']:.0%}")
        cells.append(f"{sum(r['compile_s'].values()):.0f}")
        mem = r["peak_device_bytes"] or r["peak_host_rss_bytes"]
        cells.append(f"{mem / 2**30:.2f} GiB" + ("" if r["peak_device_bytes"] else " (host)"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from mjx_nclql.cli_help import command_parser

    description = __doc__.split("\n\n")[1]  # the paragraph that says what is measured
    p = command_parser("mjx_nclql.bench", description, __doc__)
    p.add_argument("--env", default="halfcheetah",
                   help="task, comma-separated tasks, or 'all'")
    p.add_argument("--preset", default="paper", choices=["paper", "fast", "smoke"],
                   help="protocol preset the measured config starts from (configs/preset/)")
    p.add_argument("--algo", default="nclql", choices=["nclql", "lql"],
                   help="algorithm variant (configs/algo/)")
    p.add_argument("--num-envs", type=int,
                   help="parallel environments per seed (default: the preset's train.num_envs)")
    p.add_argument("--num-seeds", default="1",
                   help="seeds in one program, comma-separated to measure several, e.g. 1,5")
    p.add_argument("--batch-size", type=int,
                   help="update batch size (default: the preset's train.batch_size)")
    p.add_argument("--updates-per-step", type=int,
                   help="updates per vector step (default: the preset's train.updates_per_step)")
    p.add_argument("--chunk-iters", type=int,
                   help="vector steps per jitted chunk (default: the preset's train.chunk_iters)")
    p.add_argument("--repeats", type=int, default=3,
                   help="timed calls per measurement after the compiling one; the best counts")
    p.add_argument("--profile", metavar="DIR",
                   help="write a JAX profiler trace of training here (default: no trace)")
    p.add_argument("--json", metavar="PATH",
                   help="also write the JSON results here (default: print only)")
    p.add_argument("--suite", choices=["single", "device"], default="single",
                   help="single: the measurements above; device: the whole accelerator campaign "
                        "(see mjx_nclql/device_suite.py)")
    p.add_argument("--out", metavar="DIR",
                   help="--suite device: where device.md/.json go (required there)")
    p.add_argument("--budget", type=float, default=480.0, metavar="SECONDS",
                   help="--suite device: start no measurement expected to end past this")
    p.add_argument("--grid", choices=["full", "tiny"], default="full",
                   help="--suite device: full sizes, or toy sizes to check the command on a CPU")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="extra Hydra overrides of the measured config, e.g. train.num_envs=1024")
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if args.suite == "device":
        return _device_suite(p, args, argv)

    import envs

    tasks = envs.names() if args.env == "all" else args.env.split(",")
    try:
        seed_counts = [int(s) for s in args.num_seeds.split(",")]
    except ValueError:
        p.error(f"--num-seeds must be comma-separated integers, got {args.num_seeds!r}")
    extra = list(args.overrides)
    for flag, key in [("num_envs", "train.num_envs"), ("batch_size", "train.batch_size"),
                      ("updates_per_step", "train.updates_per_step"),
                      ("chunk_iters", "train.chunk_iters")]:
        if getattr(args, flag) is not None:
            extra.append(f"{key}={getattr(args, flag)}")
    if args.repeats < 1:
        p.error("--repeats must be >= 1")

    rows = []
    try:
        configs = [(task, n, load_config(task, args.preset, args.algo, [*extra, f"num_seeds={n}"]))
                   for task in tasks for n in seed_counts]
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    import jax

    print(f"jax {jax.__version__} | devices {jax.devices()} | preset {args.preset}", flush=True)
    for task, n, cfg in configs:
        print(f"measuring {task} with {n} seed(s) ...", flush=True)
        fig = measure(cfg, repeats=args.repeats, profile_dir=args.profile)
        fig["preset"] = args.preset
        fig["protocol_estimate"] = protocol_estimate(fig, cfg)
        fig["versions"] = {"jax": jax.__version__, "mujoco": _version("mujoco"),
                           "mujoco-mjx": _version("mujoco-mjx")}
        rows.append(fig)
        print(json.dumps(fig), flush=True)
    print()
    print(_table(rows))
    for r in rows:
        est = r["protocol_estimate"]
        print(f"{r['env']} x{r['num_seeds']} seeds: the {args.preset} protocol "
              f"({est['updates_per_run']:,.0f} updates/run) would take "
              f"{est['hours_per_program']:.2f} h for this program (evaluation excluded)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


def _device_suite(p: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None) -> int:
    from mjx_nclql.device_suite import Campaign

    if not args.out:
        p.error("--suite device needs --out DIR")
    if args.budget <= 0:
        p.error("--budget must be > 0 seconds")
    if args.overrides:
        p.error("--suite device takes no overrides: its grid is fixed (see --grid)")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as err:
        p.error(f"cannot create --out {args.out}: {err.strerror}")
    # No persistent cache here: compile times are among the figures (the "cache" item measures
    # the cache itself, in fresh processes with a directory of their own).
    command = "python -m mjx_nclql.bench " + " ".join(sys.argv[1:] if argv is None else argv)
    campaign = Campaign(args.out, args.grid, args.budget, command.strip())
    print(f"device suite: {campaign.report['machine']['device']} | grid {args.grid} | "
          f"budget {args.budget:.0f} s | writing {os.path.abspath(args.out)}/device.md", flush=True)
    report = campaign.run()
    print(f"done in {report['elapsed_s']:.0f} s: {os.path.join(campaign.out, 'device.md')}"
          f" ({len(report['skipped'])} skipped, {len(report['errors'])} failed)", flush=True)
    return 1 if report["errors"] else 0


def _version(pkg: str) -> str:
    from importlib.metadata import version

    return version(pkg)


if __name__ == "__main__":
    sys.exit(main())
