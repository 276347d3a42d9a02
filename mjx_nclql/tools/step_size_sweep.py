"""How high plain Langevin climbs a trained critic, per step size: the sweep behind LQL's default.

LQL runs L*T Langevin steps of one size on Q. Too small a step and the chain barely leaves its
uniform start; too large and it jumps from bound to bound. This command takes the critics of a
trained run, collects states by playing the run's own policy on its MJX task, and for each step
size draws actions with plain Langevin (same w, gradient normalisation, clipping and number of
gradient evaluations as the run's sampler, at the critic's sharpest level). It reports the mean
min-over-critics Q of those actions, next to uniform actions and the run's own (annealed)
sampler, as the fraction of the annealed sampler's gain over uniform that plain Langevin gets.

    python -m mjx_nclql.step_size_sweep RUN_DIR [--eps 1e-4,1e-3,...] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from mjx_nclql.algo.agent import Agent
from mjx_nclql.algo.sampler import annealed_langevin, langevin
from mjx_nclql.runtime.build import make_env
from mjx_nclql.runtime.policy import restore_params
from mjx_nclql.runtime.rollout import play_episodes

DEFAULT_EPS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)


def _states(env: Any, agent: Agent, params: Any, key: jax.Array, episodes: int) -> jax.Array:
    """Observations of `episodes` episodes of the run's policy, [episodes * length, obs]."""
    _, _, obs = jax.jit(lambda p, k: play_episodes(env, agent.act, p, k, episodes, record=lambda s: s.obs))(
        params, key
    )
    return obs.reshape(-1, obs.shape[-1]).astype(jnp.float32)


def sweep_seed(
    agent: Agent, params: Any, obs: jax.Array, eps_values: tuple[float, ...], key: jax.Array
) -> dict[str, Any]:
    """Mean min-Q at the sharpest level of actions from uniform, annealed and plain samplers."""
    sharp = jnp.asarray(agent.sharpest, jnp.int32)
    d = agent.action_dim
    critic = agent.chain_critic(params)

    def q_of(actions: jax.Array) -> float:
        return float(agent.apply(params, obs, actions, sharp).min(axis=0).mean())

    uniform_key, annealed_key, plain_key = jax.random.split(key, 3)
    uniform = jax.random.uniform(uniform_key, (obs.shape[0], d), minval=-1.0, maxval=1.0)
    sampler = agent.cfg.sampler
    annealed = jax.jit(lambda o, k: annealed_langevin(critic, o, k, sampler, d))(obs, annealed_key)
    q_uniform, q_annealed = q_of(uniform), q_of(annealed)
    plain_fn = jax.jit(
        lambda o, k, eps: langevin(critic, o, k, dataclasses.replace(sampler, eps=eps), d),
        static_argnums=2,
    )
    rows = []
    for eps in eps_values:
        actions = plain_fn(obs, plain_key, float(eps))
        q = q_of(actions)
        rows.append(
            {
                "eps": float(eps),
                "q": q,
                "fraction_of_annealed_gain": (q - q_uniform) / (q_annealed - q_uniform),
                "at_bound": float(jnp.mean(jnp.abs(actions) >= 1.0 - 1e-6)),
            }
        )
    return {
        "q_uniform": q_uniform,
        "q_annealed": q_annealed,
        "annealed_at_bound": float(jnp.mean(jnp.abs(annealed) >= 1.0 - 1e-6)),
        "plain": rows,
    }


def run(
    run_dir: str,
    eps_values: tuple[float, ...] = DEFAULT_EPS,
    episodes: int = 2,
    states: int = 1024,
    step: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    cfg, agent, step, params = restore_params(run_dir, step)
    if not agent.cfg.noise_conditioned:
        raise ValueError(f"{run_dir} is an LQL run: the sweep compares against NC-LQL's sampler")
    env = make_env(cfg)
    key = jax.random.key(seed)
    seeds = []
    for i in range(cfg.num_seeds):
        p = jax.tree.map(lambda x, i=i: x[i], params)
        key, play_key, pick_key, sweep_key = jax.random.split(key, 4)
        obs = _states(env, agent, p, play_key, episodes)
        obs = obs[jax.random.choice(pick_key, obs.shape[0], (states,), replace=False)]
        seeds.append(sweep_seed(agent, p, obs, eps_values, sweep_key))
    mean_fraction = {
        eps: float(np.mean([s["plain"][j]["fraction_of_annealed_gain"] for s in seeds]))
        for j, eps in enumerate(eps_values)
    }
    best = max(mean_fraction, key=mean_fraction.get)
    s = agent.cfg.sampler
    return {
        "run_dir": run_dir,
        "env": cfg.env.name,
        "step": step,
        "states_per_seed": states,
        "w": s.w,
        "gradient_evaluations": s.num_levels * s.steps_per_level,
        "grad_norm": s.grad_norm,
        "annealed_step_sizes": [s.eps * (s.sigma_max / s.sigma_min) ** 2, s.eps],
        "seeds": seeds,
        "mean_fraction_of_annealed_gain": mean_fraction,
        "best_eps": best,
    }


def print_table(result: dict[str, Any]) -> None:
    seeds = result["seeds"]
    print(
        f"{result['env']}, checkpoint {result['step']}, {len(seeds)} seed(s), "
        f"{result['states_per_seed']} states each, w={result['w']:g}, "
        f"{result['gradient_evaluations']} gradient evaluations"
    )
    print("| sampler | mean min-Q | fraction of annealed gain over uniform | at bound |")
    print("|---|---|---|---|")
    mean = lambda xs: float(np.mean(xs))  # noqa: E731
    print(f"| uniform | {mean([s['q_uniform'] for s in seeds]):.3f} | 0 | |")
    print(
        f"| annealed (NC-LQL) | {mean([s['q_annealed'] for s in seeds]):.3f} | 1 | "
        f"{mean([s['annealed_at_bound'] for s in seeds]):.2f} |"
    )
    for j, row in enumerate(seeds[0]["plain"]):
        q = mean([s["plain"][j]["q"] for s in seeds])
        frac = mean([s["plain"][j]["fraction_of_annealed_gain"] for s in seeds])
        bound = mean([s["plain"][j]["at_bound"] for s in seeds])
        print(f"| plain, eps {row['eps']:g} | {q:.3f} | {frac:.3f} | {bound:.2f} |")
    print(f"best plain step size: {result['best_eps']:g}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        prog="python -m mjx_nclql.step_size_sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", help="a trained NC-LQL run directory (with checkpoints)")
    p.add_argument(
        "--eps", default=",".join(f"{e:g}" for e in DEFAULT_EPS), help="comma-separated step sizes to try"
    )
    p.add_argument("--episodes", type=int, default=2, help="episodes played per seed for states")
    p.add_argument("--states", type=int, default=1024, help="states per seed the sweep uses")
    p.add_argument("--step", type=int, default=None, help="checkpoint (default: newest)")
    p.add_argument("--out", default=None, help="write the result as JSON here")
    args = p.parse_args(argv)
    eps_values = tuple(float(e) for e in args.eps.split(","))
    if not all(math.isfinite(e) and e > 0 for e in eps_values):
        p.error("--eps: every step size must be a positive number")
    result = run(args.run_dir, eps_values, args.episodes, args.states, args.step)
    print_table(result)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
