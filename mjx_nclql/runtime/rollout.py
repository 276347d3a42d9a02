"""Whole evaluation episodes of a policy on an MJX task, as one pure, jittable function.

Used by the trainer's periodic evaluation and by `python -m mjx_nclql.evaluate`, so both
measure the same thing: the return and length of K independent episodes run to their end, and
how far forward each one went (a return can be mostly alive bonus: Ant, Humanoid).
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
    # Forward (x) displacement of the task's tracked point over the episode, the sum of
    # `x_velocity * dt` (what the forward reward pays for); None on a task without x_velocity.
    distances: jax.Array | None = None


def run_episodes(env: Env, act: ActFn, params: Any, key: jax.Array, num_episodes: int) -> EpisodeStats:
    """`num_episodes` episodes from fresh resets, acting with `act(params, obs, key)`, for at
    most `env.episode_length` steps. The loop stops once every episode has ended, so a policy
    that falls early is evaluated in the time its episodes take (under `vmap`, once every
    batch member's have). Its statistics are `play_episodes`'s, which runs every step, up to
    float rounding: XLA compiles the two loops apart, and on a chaotic task a rounding
    difference can change an episode (Hopper, 20 episodes x 3 seeds: one seed's mean moved
    by 13, within its standard error of 28-39)."""
    init, keys = _start(env, key, num_episodes)
    step = _stepper(env, act, params, None)

    def cond(loop: tuple) -> jax.Array:
        t, carry = loop
        return (t < env.episode_length) & jnp.any(carry[4] > 0)  # alive

    def body(loop: tuple) -> tuple:
        t, carry = loop
        return t + 1, step(carry, keys[t])[0]

    _, (_, returns, lengths, bad, _, dist) = jax.lax.while_loop(cond, body, (jnp.int32(0), init))
    return EpisodeStats(returns=returns, lengths=lengths, nonfinite=bad, distances=dist)


def play_episodes(
    env: Env,
    act: ActFn,
    params: Any,
    key: jax.Array,
    num_episodes: int,
    record: Callable[[Any], Any] | None = None,
) -> tuple[EpisodeStats, Any, Any]:
    """`run_episodes`'s episodes through all `env.episode_length` steps, plus `record(state)`
    of the reset states and of the state after every step (leading axis: steps), for whoever
    needs the trajectories (the rollout renderer)."""
    init, keys = _start(env, key, num_episodes)
    first = None if record is None else record(init[0])
    (_, returns, lengths, bad, _, dist), steps = jax.lax.scan(_stepper(env, act, params, record), init, keys)
    return EpisodeStats(returns=returns, lengths=lengths, nonfinite=bad, distances=dist), first, steps


def _start(env: Env, key: jax.Array, num_episodes: int) -> tuple[tuple, jax.Array]:
    """(the loop's first carry, from the reset states; one key per step): the key derivation
    both loops share, so the same key plays the same episodes."""
    reset_key, key = jax.random.split(key)
    state = jax.vmap(env.reset)(jax.random.split(reset_key, num_episodes))
    zeros = jnp.zeros((num_episodes,), state.reward.dtype)
    distances = zeros if _forward_speed(env, state) is not None else None
    init = (state, zeros, zeros, zeros, jnp.ones_like(zeros), distances)
    return init, jax.random.split(key, env.episode_length)


def _forward_speed(env: Env, state: Any) -> jax.Array | None:
    """Forward displacement per step (`x_velocity * dt`) of a batch of states, or None for a
    task that reports no forward velocity (the probes)."""
    dt = getattr(env, "dt", None)
    if dt is None or "x_velocity" not in state.metrics:
        return None
    return state.metrics["x_velocity"] * dt


def _stepper(env: Env, act: ActFn, params: Any, record: Callable[[Any], Any] | None) -> Callable:
    """One step of every episode: (state, return, length, non-finite, alive, distance) -> the
    next, counting an episode only while it is alive."""

    def step(carry: tuple, step_key: jax.Array) -> tuple[tuple, Any]:
        state, ret, length, bad, alive, dist = carry
        actions = act(params, state.obs.astype(jnp.float32), step_key)
        state = jax.vmap(env.step)(state, actions)
        ret = ret + alive * state.reward
        length = length + alive
        bad = jnp.maximum(bad, alive * state.info["nonfinite"])
        if dist is not None:
            dist = dist + alive * _forward_speed(env, state)
        done = jnp.maximum(state.terminated, state.truncated)
        carry = (state, ret, length, bad, alive * (1.0 - done), dist)
        return carry, None if record is None else record(state)

    return step
