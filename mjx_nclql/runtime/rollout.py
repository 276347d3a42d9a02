"""Whole evaluation episodes of a policy on an MJX task, as one pure, jittable function.

Used by the trainer's periodic evaluation and by `python -m mjx_nclql.evaluate`, so both
measure the same thing: the return and length of K independent episodes run to their end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flax.struct
import jax
import jax.numpy as jnp

if TYPE_CHECKING:
    from envs.protocol import Env

ActFn = Callable[[Any, jax.Array, jax.Array], jax.Array]  # (params, obs [B, o], key) -> [B, d]


@flax.struct.dataclass
class EpisodeStats:
    """Per-episode totals, each of shape [K] (plus any leading batch axes)."""

    returns: jax.Array
    lengths: jax.Array  # steps until termination or truncation
    nonfinite: jax.Array  # 1 where the physics went non-finite during the episode


def run_episodes(env: Env, act: ActFn, params: Any, key: jax.Array, num_episodes: int) -> EpisodeStats:
    """`num_episodes` episodes from fresh resets, acting with `act(params, obs, key)`; the
    scan runs `env.episode_length` steps and stops counting an episode once it ended."""
    return play_episodes(env, act, params, key, num_episodes)[0]


def play_episodes(
    env: Env, act: ActFn, params: Any, key: jax.Array, num_episodes: int,
    record: Callable[[Any], Any] | None = None,
) -> tuple[EpisodeStats, Any, Any]:
    """`run_episodes`, plus `record(state)` of the reset states and of the state after every
    step (leading axis: steps), for whoever needs the trajectories (the rollout renderer)."""
    reset_key, key = jax.random.split(key)
    state = jax.vmap(env.reset)(jax.random.split(reset_key, num_episodes))
    zeros = jnp.zeros((num_episodes,), state.reward.dtype)

    def step(carry: tuple, step_key: jax.Array) -> tuple[tuple, Any]:
        state, ret, length, bad, alive = carry
        actions = act(params, state.obs.astype(jnp.float32), step_key)
        state = jax.vmap(env.step)(state, actions)
        ret = ret + alive * state.reward
        length = length + alive
        bad = jnp.maximum(bad, alive * state.info["nonfinite"])
        done = jnp.maximum(state.terminated, state.truncated)
        return (state, ret, length, bad, alive * (1.0 - done)), None if record is None else record(state)

    first = None if record is None else record(state)
    init = (state, zeros, zeros, zeros, jnp.ones_like(zeros))
    (_, returns, lengths, bad, _), steps = jax.lax.scan(
        step, init, jax.random.split(key, env.episode_length)
    )
    return EpisodeStats(returns=returns, lengths=lengths, nonfinite=bad), first, steps
