"""How many solver and line-search iterations the tasks' states need, and whether caps bind.

`python -m envs.solver_caps --env hopper --policies uniform,zero,bangbang,sine` counts, for every
constraint solve of long rollouts, the Newton iterations it ran and the line-search iterations of
each of them, at Gymnasium's settings (the XML's caps, 100 and 50, Humanoid's PGS as Newton). A
cap at or above the largest count never binds, so it leaves the trajectory bit-identical while a
vmapped step stops paying for iterations no state uses (MJX's line search is a `scan` over
`ls_iterations` bodies, each a `cond` that `vmap` turns into both branches). `--check` then
steps the same starts and actions through a batched `VecEnv` at both settings and reports the
largest difference (0.0 means bit-identical): the proof behind `MjxEnv.faithful_caps`.

The counts come from wrapping two functions of `mujoco.mjx._src.solver` (pinned release) with
`jax.debug.callback`, on one env at a time: under `vmap` the solver's `while_loop` runs the body
for envs that have already converged and discards the result, which would count iterations
that never happened.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import envs
from envs.base import MjxEnv
from envs.registry import resolve
from envs.vector import VecEnv

POLICIES = ("uniform", "zero", "bangbang", "sine")


def action_sequence(
    policy: str, key: jax.Array, steps: int, num_envs: int, size: int, dt: float
) -> np.ndarray:
    """Open-loop actions in [-1, 1], shape (steps, num_envs, size).

    uniform: i.i.d. U(-1, 1), the random policy. zero: no torque (rest or fall). bangbang: each
    joint at -1 or +1, flipping with probability 0.1 per step (hard impacts, saturated motors).
    sine: per env and joint a sinusoid of 0.5-3 Hz with random phase and amplitude 0.5-1, a
    gait-like periodic drive.
    """
    k1, k2, k3, k4 = jax.random.split(key, 4)
    shape = (steps, num_envs, size)
    if policy == "uniform":
        out = jax.random.uniform(k1, shape, minval=-1.0, maxval=1.0)
    elif policy == "zero":
        out = jnp.zeros(shape)
    elif policy == "bangbang":
        start = jnp.where(jax.random.bernoulli(k1, 0.5, shape[1:]), 1.0, -1.0)
        flips = jax.random.bernoulli(k2, 0.1, shape).astype(jnp.int32)
        out = start * jnp.where(jnp.cumsum(flips, axis=0) % 2 == 0, 1.0, -1.0)
    elif policy == "sine":
        freq = jax.random.uniform(k1, shape[1:], minval=0.5, maxval=3.0)
        phase = jax.random.uniform(k2, shape[1:], minval=0.0, maxval=2 * np.pi)
        amp = jax.random.uniform(k3, shape[1:], minval=0.5, maxval=1.0)
        t = (jnp.arange(steps) * dt)[:, None, None]
        out = amp * jnp.sin(2 * np.pi * freq * t + phase)
        del k4
    else:
        raise ValueError(f"unknown policy {policy!r}; choices: {', '.join(POLICIES)}")
    return np.asarray(out, np.float64)


class Counts:
    """Histograms filled from inside the jitted rollout."""

    def __init__(self, solver_cap: int, ls_cap: int) -> None:
        # solves[i]: solves that ran at least i + 1 Newton iterations; ls[j]: line searches of j.
        self.solves = np.zeros(solver_cap + 1, np.int64)
        self.ls = np.zeros(ls_cap + 1, np.int64)

    def add_iteration(self, index: Any) -> None:
        idx = np.asarray(index).reshape(-1)
        np.add.at(self.solves, np.minimum(idx, len(self.solves) - 1), 1)

    def add_linesearch(self, ls_iter: Any) -> None:
        idx = np.asarray(ls_iter).reshape(-1)
        np.add.at(self.ls, np.minimum(idx, len(self.ls) - 1), 1)

    def summary(self) -> dict[str, Any]:
        solves = int(self.solves[0])
        used = np.nonzero(self.solves)[0]
        ls_used = np.nonzero(self.ls)[0]
        return {
            "solves": solves,
            "max_solver_iterations": int(used[-1] + 1) if len(used) else 0,
            "line_searches": int(self.ls.sum()),
            "max_ls_iterations": int(ls_used[-1]) if len(ls_used) else 0,
            # solves that needed more than k iterations, k = 1..max
            "solves_over": {int(k): int(self.solves[k]) for k in range(1, len(used) + 1) if self.solves[k]},
            "ls_histogram": {int(j): int(self.ls[j]) for j in ls_used},
        }


@contextlib.contextmanager
def counting(counts: Counts) -> Iterator[None]:
    """Trace MJX's solver with host callbacks that fill `counts` (trace inside this block)."""
    from mujoco.mjx._src import solver

    linesearch, while_loop_scan = solver._linesearch, solver._while_loop_scan

    def counted_linesearch(m: Any, d: Any, ctx: Any) -> Any:
        jax.debug.callback(counts.add_iteration, ctx.solver_niter)
        return linesearch(m, d, ctx)

    def counted_scan(cond: Any, body: Any, init: Any, max_iter: int) -> Any:
        out = while_loop_scan(cond, body, init, max_iter)
        jax.debug.callback(counts.add_linesearch, out.ls_iter)
        return out

    solver._linesearch, solver._while_loop_scan = counted_linesearch, counted_scan
    try:
        yield
    finally:
        solver._linesearch, solver._while_loop_scan = linesearch, while_loop_scan


def count_iterations(env: MjxEnv, runs: Sequence[tuple[np.ndarray, jax.Array]]) -> list[dict[str, Any]]:
    """For each (actions (steps, num_envs, size), key): roll each env's column of actions on its
    own, resetting on termination, truncation or non-finite physics, and count the solver's
    iterations. One compiled program serves every run."""
    opt = env.mj_model.opt
    counts = Counts(int(opt.iterations), int(opt.ls_iterations))

    def rollout(key: jax.Array, acts: jax.Array) -> jax.Array:
        def body(state: Any, a: jax.Array) -> tuple[Any, jax.Array]:
            nxt = env.step(state, a)
            done = (nxt.terminated + nxt.truncated) > 0
            nxt = jax.lax.cond(done, lambda s: env.reset(s.info["rng"]), lambda s: s, nxt)
            return nxt, done

        _, dones = jax.lax.scan(body, env.reset(key), acts)
        return jnp.sum(dones)

    acts0, key0 = runs[0]
    with counting(counts):
        program = jax.jit(rollout).lower(key0, jnp.asarray(acts0[:, 0], env.dtype)).compile()
    out = []
    for acts, key in runs:
        counts.__init__(int(opt.iterations), int(opt.ls_iterations))
        t0 = time.perf_counter()
        episodes = 0
        for i, k in enumerate(jax.random.split(key, acts.shape[1])):
            episodes += int(program(k, jnp.asarray(acts[:, i], env.dtype)))
        out.append(
            {**counts.summary(), "episodes_ended": episodes, "seconds": round(time.perf_counter() - t0, 1)}
        )
    return out


def rollout_program(env: MjxEnv, num_envs: int) -> Any:
    """A jitted `(key, actions) -> (qpos, qvel)` after every step of a batched `VecEnv`."""
    venv = VecEnv(env, num_envs)

    def run(key: jax.Array, acts: jax.Array) -> tuple[jax.Array, jax.Array]:
        def body(vs: Any, a: jax.Array) -> tuple[Any, tuple[jax.Array, jax.Array]]:
            vs = venv.step(vs, a.astype(env.dtype))
            return vs, (vs.env_state.data.qpos, vs.env_state.data.qvel)

        return jax.lax.scan(body, venv.reset(key), acts)[1]

    return jax.jit(run)


def check_caps(
    name: str, runs: Sequence[tuple[np.ndarray, jax.Array]], **options: Any
) -> list[dict[str, float]]:
    """Per (actions, key): the largest |qpos| and |qvel| difference between Gymnasium's settings
    and `options` (default: the faithful tier; e.g. `solver_iterations=4, ls_iterations=6`),
    both batched over the starts."""
    num_envs = runs[0][0].shape[1]
    ref = rollout_program(envs.make(name, physics="gymnasium"), num_envs)
    capped = rollout_program(envs.make(name, **options), num_envs)
    out = []
    for acts, key in runs:
        gaps = [
            float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
            for a, b in zip(ref(key, acts), capped(key, acts), strict=True)
        ]
        out.append({"qpos_max_abs_diff": gaps[0], "qvel_max_abs_diff": gaps[1]})
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m envs.solver_caps", description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="hopper", help="comma-separated task names (default hopper)")
    p.add_argument("--policies", default="uniform,zero,bangbang,sine", help=f"of {', '.join(POLICIES)}")
    p.add_argument("--num-envs", type=int, default=4, help="independent starts per policy (default 4)")
    p.add_argument("--steps", type=int, default=1000, help="env steps per start (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--float32", action="store_true", help="count in float32 (training's dtype)")
    p.add_argument("--no-count", action="store_true", help="skip the counts (with --check: only the proof)")
    p.add_argument(
        "--check",
        action="store_true",
        help="step the task's faithful caps and Gymnasium's batched and compare",
    )
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    names = [resolve(n) for n in args.env.split(",") if n]
    policies = [s for s in args.policies.split(",") if s]
    for policy in policies:
        if policy not in POLICIES:
            p.error(f"unknown policy {policy!r}; choices: {', '.join(POLICIES)}")
    jax.config.update("jax_enable_x64", not args.float32)
    out: dict[str, Any] = {"dtype": "float32" if args.float32 else "float64", "tasks": {}}
    for name in names:
        env = envs.make(name, physics="gymnasium")
        runs = []
        for i, policy in enumerate(policies):
            key = jax.random.fold_in(jax.random.PRNGKey(args.seed), i)
            runs.append(
                (action_sequence(policy, key, args.steps, args.num_envs, env.action_size, env.dt), key)
            )
        result: dict[str, Any] = {}
        if not args.no_count:
            result["policies"] = rows = dict(zip(policies, count_iterations(env, runs), strict=True))
            for policy, row in rows.items():
                print(
                    f"{name:12s} {policy:9s} solves={row['solves']:8d}"
                    f" max iterations={row['max_solver_iterations']:3d}"
                    f" max line search={row['max_ls_iterations']:3d}"
                    f" episodes ended={row['episodes_ended']:4d} ({row['seconds']} s)",
                    flush=True,
                )
        if args.check:
            t0 = time.perf_counter()
            caps = dataclasses.asdict(env.faithful_caps)
            result["check"] = {"caps": caps, **dict(zip(policies, check_caps(name, runs), strict=True))}
            print(
                f"{name:12s} faithful {caps}: {result['check']} ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
        out["tasks"][name] = result
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
