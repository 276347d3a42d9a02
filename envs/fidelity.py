"""Is float32 MJX the same task as Gymnasium? `python -m envs.fidelity --env all`.

Training steps MJX in float32; Gymnasium (MuJoCo C, float64) is where published returns come
from. Two measurements:

* **distribution**: the mean return (and length) of a fixed policy, uniform random actions
  (`--policy zero`: the all-zero action, no torque at all), over many episodes on float32 MJX
  and on Gymnasium, with standard errors, and the count of episodes whose physics went
  non-finite (MJX: the task's guard fired; MuJoCo C: its bad-acceleration warning, after which
  it resets the data itself);
* **drift**: the same start and the same action sequence stepped in float32 and float64 MJX;
  the gap in qpos over time, next to the gap a 1e-7 nudge of the float64 start grows into
  (the system's own sensitivity: float32 round-off is a perturbation of that size).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import mujoco
import numpy as np

import envs
from envs.model import PHYSICS_TIERS
from envs.stats import difference, episode_statistics

# Tasks whose random-action episodes run to the time limit (1000 steps each on a CPU-costly
# simulation): they get fewer episodes; their returns also vary less from episode to episode.
LONG_EPISODE_TASKS = ("ant", "halfcheetah", "swimmer")
# Episodes per simulator by default (`--episodes`), and for LONG_EPISODE_TASKS (`--episodes-long`).
EPISODES, EPISODES_LONG = 200, 40

# The fixed policies: "uniform" draws each action uniform on [-1, 1] (the MJX task maps it
# affinely onto the action space, Gymnasium draws uniform on the action space: the same law);
# "zero" sends the action space's centre, 0 on every task, so the body only falls or rests
# under gravity: the reference for tasks whose alive bonus pays for doing nothing.
POLICIES = ("uniform", "zero")


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")


def _stats(returns: np.ndarray, lengths: np.ndarray, nonfinite: np.ndarray) -> dict[str, float]:
    return episode_statistics(returns, np.asarray(lengths, np.float64), nonfinite)


def mjx_episodes(
    name: str, episodes: int, seed: int = 0, policy: str = "uniform", **options: Any
) -> dict[str, float]:
    """`episodes` float32 MJX episodes under `policy` (`POLICIES`), all in one jitted loop."""
    _check_policy(policy)
    env = envs.make(name, **options)

    def run(key: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        reset_key, key = jax.random.split(key)
        state = jax.vmap(env.reset)(jax.random.split(reset_key, episodes))
        zeros = jnp.zeros((episodes,), state.reward.dtype)

        def step(carry: tuple) -> tuple:
            t, key, state, ret, length, bad, alive = carry
            key, k = jax.random.split(key)
            shape = (episodes, env.action_size)
            if policy == "zero":
                actions = jnp.zeros(shape)
            else:
                actions = jax.random.uniform(k, shape, minval=-1.0, maxval=1.0)
            state = jax.vmap(env.step)(state, actions)
            ret = ret + alive * state.reward
            length = length + alive
            bad = jnp.maximum(bad, alive * state.info["nonfinite"])
            alive = alive * (1.0 - jnp.maximum(state.terminated, state.truncated))
            return t + 1, key, state, ret, length, bad, alive

        # Stop as soon as every episode has ended (random Humanoids fall within ~25 steps).
        init = (0, key, state, zeros, zeros, zeros, jnp.ones_like(zeros))
        out = jax.lax.while_loop(lambda c: (c[0] < env.episode_length) & jnp.any(c[-1] > 0), step, init)
        return out[3], out[4], out[5]

    out = jax.device_get(jax.jit(run)(jax.random.PRNGKey(seed)))
    return _stats(*out)


def gym_episodes(
    name: str, episodes: int, seed: int = 0, policy: str = "uniform", **options: Any
) -> dict[str, float]:
    """The same on Gymnasium's own task (MuJoCo C, float64)."""
    import gymnasium as gym

    _check_policy(policy)

    gym_id, kwargs, _ = envs.registry.gymnasium_spec(name, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = gym.make(gym_id, **kwargs)
    rng = np.random.default_rng(seed)
    low, high = g.action_space.low, g.action_space.high
    badqacc = int(mujoco.mjtWarning.mjWARN_BADQACC)
    returns, lengths, bad = [], [], []
    for i in range(episodes):
        g.reset(seed=seed * 1_000_003 + i)
        data = g.unwrapped.data
        warned = data.warning[badqacc].number
        ret, n, done = 0.0, 0, False
        while not done:
            action = rng.uniform(low, high) if policy == "uniform" else np.zeros_like(low)
            _, r, terminated, truncated, _ = g.step(action)
            ret, n, done = ret + r, n + 1, terminated or truncated
        returns.append(ret)
        lengths.append(n)
        bad.append(data.warning[badqacc].number > warned)
    g.close()
    return _stats(np.array(returns), np.array(lengths), np.array(bad))


def distribution(
    name: str, episodes: int, seed: int = 0, policy: str = "uniform", **options: Any
) -> dict[str, Any]:
    """`policy`'s return on both simulators and their difference in standard errors."""
    t = time.perf_counter()
    mjx = mjx_episodes(name, episodes, seed, policy, **options)
    gym = gym_episodes(name, episodes, seed, policy, **options)
    diff = difference(gym["return_mean"], gym["return_stderr"], mjx["return_mean"], mjx["return_stderr"])
    return {
        "env": name,
        "policy": policy,
        "mjx_float32": mjx,
        "gymnasium": gym,
        "difference": diff,
        "seconds": time.perf_counter() - t,
    }


def _qpos_rollout(name: str, qpos: np.ndarray, qvel: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """qpos after each env step from the given starts, [B, T, nq], in the current precision."""
    env = envs.make(name)

    def one(q: jax.Array, v: jax.Array, acts: jax.Array) -> jax.Array:
        state = env.state_from(q, v, jax.random.PRNGKey(0))

        def body(s: Any, a: jax.Array) -> tuple[Any, jax.Array]:
            s = env.step(s, a)
            return s, s.data.qpos

        return jax.lax.scan(body, state, acts)[1]

    dtype = env.dtype
    out = jax.jit(jax.vmap(one))(
        jnp.asarray(qpos, dtype), jnp.asarray(qvel, dtype), jnp.asarray(actions, dtype)
    )
    return np.asarray(jax.device_get(out), np.float64)


def drift(name: str, steps: int = 1000, batch: int = 8, seed: int = 0, nudge: float = 1e-7) -> dict[str, Any]:
    """float32 vs float64 MJX from the same starts under the same actions, against the gap a
    `nudge` of the float64 start grows into: max |qpos difference|, median over starts."""
    rng = np.random.default_rng(seed)
    jax.clear_caches()  # jax reuses some float64 traces across the x64 switch (see tests)
    try:
        with jax.enable_x64(True):
            env64 = envs.make(name)
            keys = jax.random.split(jax.random.PRNGKey(seed), batch)
            starts = jax.device_get(jax.vmap(env64._reset_noise)(keys))
            qpos, qvel = (np.asarray(x, np.float64) for x in starts)
            actions = rng.uniform(-1.0, 1.0, (batch, steps, env64.action_size))
            direction = rng.standard_normal(qvel.shape)
            both = _qpos_rollout(
                name,
                np.concatenate([qpos, qpos]),  # one compile for both
                np.concatenate([qvel, qvel + nudge * direction]),
                np.concatenate([actions, actions]),
            )
            ref, nudged = both[:batch], both[batch:]
    finally:
        jax.clear_caches()
    f32 = _qpos_rollout(name, qpos.astype(np.float32), qvel.astype(np.float32), actions.astype(np.float32))
    marks = [t for t in (1, 10, 30, 100, 300, 1000) if t <= steps]

    def gap(x: np.ndarray) -> dict[str, float]:
        finite = np.isfinite(x).all(axis=(1, 2))
        d = np.abs(x[finite] - ref[finite]).max(axis=-1)  # [B, T]
        return {str(t): float(np.median(d[:, t - 1])) for t in marks}

    return {
        "env": name,
        "steps": steps,
        "starts": batch,
        "nudge": nudge,
        "float32_vs_float64": gap(f32),
        "nudged_float64_vs_float64": gap(nudged),
        "float32_nonfinite_starts": int((~np.isfinite(f32).all(axis=(1, 2))).sum()),
    }


def _markdown(dist: list[dict[str, Any]], drifts: list[dict[str, Any]]) -> str:
    lines = [
        "| task | episodes | MJX float32 return | Gymnasium return | gym - MJX (se) | z | "
        "lengths MJX / gym | non-finite MJX / gym |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in dist:
        m, g, x = d["mjx_float32"], d["gymnasium"], d["difference"]
        lines.append(
            f"| {d['env']} | {m['episodes']} | {m['return_mean']:.2f} +- {m['return_stderr']:.2f} | "
            f"{g['return_mean']:.2f} +- {g['return_stderr']:.2f} | {x['mean']:+.2f} ({x['stderr']:.2f}) "
            f"| {x['z']:+.2f} | {m['length_mean']:.1f} ± {m['length_stderr']:.1f} / "
            f"{g['length_mean']:.1f} ± {g['length_stderr']:.1f} | "
            f"{m['nonfinite']} / {g['nonfinite']} |"
        )
    if drifts:
        marks = list(drifts[0]["float32_vs_float64"])
        lines += [
            "",
            "| task | max abs qpos gap after step | " + " | ".join(marks) + " |",
            "|---|---|" + "---|" * len(marks),
        ]
        for d in drifts:
            for label, key in (
                ("float32 vs float64", "float32_vs_float64"),
                (f"float64 nudged by {d['nudge']:g}", "nudged_float64_vs_float64"),
            ):
                vals = " | ".join(f"{d[key][t]:.1e}" for t in marks)
                lines.append(f"| {d['env']} | {label} | {vals} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m envs.fidelity", description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="all", help="comma-separated task names, or all")
    parser.add_argument(
        "--policy", choices=POLICIES, default="uniform", help="the fixed policy of the distribution check"
    )
    parser.add_argument("--episodes", type=int, default=EPISODES, help="episodes per simulator")
    parser.add_argument(
        "--episodes-long",
        type=int,
        default=EPISODES_LONG,
        help=f"episodes for {', '.join(LONG_EPISODE_TASKS)} (1000 steps each)",
    )
    parser.add_argument("--drift-env", default="ant,humanoid", help="tasks for the drift check ('' for none)")
    parser.add_argument("--drift-steps", type=int, default=1000)
    parser.add_argument("--drift-starts", type=int, default=4)
    parser.add_argument(
        "--matmul-precision",
        choices=("default", "high", "highest"),
        default="default",
        help="jax matmul precision for the float32 physics (on a GPU, 'default' may use TF32)",
    )
    parser.add_argument(
        "--physics",
        choices=PHYSICS_TIERS,
        default="faithful",
        help="the MJX side's physics tier (Gymnasium's side is always its own task)",
    )
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    with jax.default_matmul_precision(args.matmul_precision):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        names = envs.names() if args.env == "all" else [envs.registry.resolve(n) for n in args.env.split(",")]
        drift_names = [envs.registry.resolve(n) for n in args.drift_env.split(",") if n]
    except ValueError as err:
        print(f"fidelity: {err}", file=sys.stderr)
        return 2
    dist = []
    for name in names:
        episodes = args.episodes_long if name in LONG_EPISODE_TASKS else args.episodes
        physics = {"physics": args.physics, **({"warp_worlds": episodes} if args.physics == "warp" else {})}
        dist.append(distribution(name, episodes, policy=args.policy, **physics))
        print(_markdown(dist[-1:], []).splitlines()[-1], flush=True)
    drifts = []
    for name in drift_names:
        drifts.append(drift(name, args.drift_steps, args.drift_starts))
        print(json.dumps(drifts[-1]), flush=True)
    print()
    print(_markdown(dist, drifts))
    if args.json:
        meta = {
            "jax": jax.__version__,
            "mujoco": mujoco.__version__,
            "backend": jax.default_backend(),
            "matmul_precision": args.matmul_precision,
            "policy": args.policy,
            "physics": args.physics,
            "device": jax.devices()[0].device_kind,
            "machine": platform.machine(),
        }
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "distribution": dist, "drift": drifts}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
