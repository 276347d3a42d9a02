"""Environment-only throughput: `python -m envs.bench --env ant --num-envs 4096 --steps 100`.

Steps a `VecEnv` with uniform random actions inside one jitted `lax.scan` and reports
env-steps/s (num_envs * steps / wall time) after compilation; compile time is
reported separately because on a small CPU it dominates short runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import mujoco

import envs
from envs.model import PHYSICS_TIERS
from envs.vector import VecEnv, VecState


def program_bytes(compiled: Any) -> int | None:
    """Device memory one compiled program needs (XLA's buffer assignment), or None."""
    try:
        m = compiled.memory_analysis()
    except Exception:  # not every backend reports it
        return None
    if m is None:
        return None
    peak = getattr(m, "peak_memory_in_bytes", 0)
    return int(
        peak
        or m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes
    )


def bench_task(
    name: str,
    num_envs: int,
    steps: int,
    repeats: int = 3,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """Compile once, run `repeats` timed rollouts of `steps` steps; report the best."""
    env = envs.make(name, **options)
    venv = VecEnv(env, num_envs)

    def rollout(vs: VecState, key: jax.Array) -> tuple[VecState, jax.Array]:
        def body(carry: VecState, k: jax.Array) -> tuple[VecState, jax.Array]:
            actions = jax.random.uniform(k, (num_envs, env.action_size), minval=-1.0, maxval=1.0)
            carry = venv.step(carry, actions)
            return carry, jnp.mean(carry.reward)

        vs, rewards = jax.lax.scan(body, vs, jax.random.split(key, steps))
        return vs, rewards

    key = jax.random.PRNGKey(seed)
    t0 = time.perf_counter()
    reset = jax.jit(venv.reset).lower(key).compile()
    vs = jax.block_until_ready(reset(key))
    compile_reset_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = jax.jit(rollout).lower(vs, key).compile()
    compile_step_s = time.perf_counter() - t0

    times = []
    for i in range(repeats):
        k = jax.random.fold_in(key, i)
        t0 = time.perf_counter()
        vs, rewards = jax.block_until_ready(run(vs, k))
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {
        "env": env.name,
        "num_envs": num_envs,
        "steps": steps,
        "env_steps_per_s": num_envs * steps / best,
        "ms_per_vector_step": 1e3 * best / steps,
        "run_s": best,
        "compile_reset_s": compile_reset_s,
        "compile_rollout_s": compile_step_s,
        "program_bytes": program_bytes(run),
        "episodes": int(vs.episodes),
        "nan_resets": int(vs.nan_resets),
        "mean_reward": float(jnp.mean(rewards)),
        "options": options,
    }


def environment() -> dict[str, str]:
    """Versions and device, recorded with every figure."""
    dev = jax.devices()[0]
    return {
        "device": f"{dev.platform}:{getattr(dev, 'device_kind', '')}",
        "jax": jax.__version__,
        "mujoco": mujoco.__version__,
        "python": platform.python_version(),
    }


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="all", help="task name, Gymnasium id or 'all'")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--physics", choices=PHYSICS_TIERS, default="faithful", help="the physics tier")
    parser.add_argument("--solver-iterations", type=int, default=None)
    parser.add_argument("--ls-iterations", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)

    names = envs.names() if args.env.lower() == "all" else [args.env]
    options = {
        k: v
        for k, v in (
            ("physics", args.physics),
            ("warp_worlds", args.num_envs if args.physics == "warp" else None),
            ("solver_iterations", args.solver_iterations),
            ("ls_iterations", args.ls_iterations),
        )
        if v is not None
    }
    results = []
    for name in names:
        r = bench_task(name, args.num_envs, args.steps, args.repeats, **options)
        results.append(r)
        print(
            f"{r['env']:>12}  num_envs={r['num_envs']:<6} steps={r['steps']:<5} "
            f"{r['env_steps_per_s']:>12,.0f} env-steps/s {r['ms_per_vector_step']:8.3f} ms/vector step  "
            f"(compile: reset {r['compile_reset_s']:.1f}s, rollout {r['compile_rollout_s']:.1f}s)",
            file=sys.stderr if args.json else sys.stdout,
            flush=True,
        )
    if args.json:
        json.dump({"environment": environment(), "results": results}, sys.stdout, indent=2)
        print()
    else:
        print(json.dumps(environment()))
    return results


if __name__ == "__main__":
    main()
