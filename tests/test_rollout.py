"""Evaluation episodes (`runtime.rollout`): the early-stopping loop the trainer and `evaluate`
use gives the statistics of the full-length scan (exactly, on a probe whose arithmetic leaves
XLA no rounding to reorder), and stops at the longest episode; an episode's forward distance
is the sum of its steps' x_velocity * dt."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from envs.probes import ProbeEnv
from mjx_nclql.runtime.rollout import play_episodes, run_episodes

EPISODE_LENGTH = 200


class Falls(ProbeEnv):
    """A probe whose episodes end at random: reward 1 + a, terminated when a > 0.8 (one step
    in ten under uniform actions), truncated after `EPISODE_LENGTH` steps."""

    def __init__(self) -> None:
        super().__init__("truncated_chain", episode_length=EPISODE_LENGTH)

    def step(self, state, action):
        state = super().step(state, action)
        return state.replace(
            reward=1.0 + action[0],
            terminated=(action[0] > 0.8).astype(jnp.float32),
            truncated=state.truncated * (action[0] <= 0.8),
        )


class Walks(Falls):
    """`Falls` with a forward velocity of a / dt per step (the action moves it a metres)."""

    dt = 0.05

    def reset(self, key):
        state = super().reset(key)
        return state.replace(metrics={"x_velocity": jnp.zeros(())})

    def step(self, state, action):
        state = super().step(state, action)
        return state.replace(metrics={"x_velocity": action[0] / self.dt})


def act(scale, obs, key):  # uniform actions in [-scale, scale]
    return scale * jax.random.uniform(key, (obs.shape[0], 1), minval=-1.0, maxval=1.0)


def test_early_stopping_loop_equals_full_scan_and_stops_at_the_longest_episode() -> None:
    env, key = Falls(), jax.random.PRNGKey(3)
    calls = []

    def counted(scale, obs, k):
        jax.debug.callback(lambda: calls.append(1))
        return act(scale, obs, k)

    early = jax.jit(lambda k: run_episodes(env, counted, 1.0, k, 16))(key)
    full = jax.jit(lambda k: play_episodes(env, act, 1.0, k, 16)[0])(key)
    chex.assert_trees_all_equal(early, full)
    lengths = np.asarray(early.lengths)
    assert lengths.min() >= 1 and lengths.max() < EPISODE_LENGTH / 2  # ends early, at random
    returns = np.asarray(early.returns)  # the falling step pays 1 + a > 1.8, each step <= 2
    assert np.all(returns > 1.8) and np.all(returns <= 2.0 * lengths)
    assert len(calls) == lengths.max()  # one policy call per step of the longest episode

    # Seeds under vmap: a seed whose actions never exceed 0.8 runs to the time limit, and the
    # other seed's episodes, long finished, keep their statistics.
    scales = jnp.array([1.0, 0.5])
    keys = jax.random.split(key, 2)
    early = jax.jit(jax.vmap(lambda s, k: run_episodes(env, act, s, k, 16)))(scales, keys)
    full = jax.jit(jax.vmap(lambda s, k: play_episodes(env, act, s, k, 16)[0]))(scales, keys)
    chex.assert_trees_all_equal(early, full)
    assert np.all(np.asarray(early.lengths)[1] == EPISODE_LENGTH)
    assert np.asarray(early.lengths)[0].max() < EPISODE_LENGTH


def test_forward_distance_sums_the_alive_steps_x_velocity_times_dt() -> None:
    """Reward 1 + a and a metres forward per step: each episode's distance is its return minus
    its length, the falling step included and nothing after it; a task without x_velocity
    has none."""
    key = jax.random.PRNGKey(5)
    early = jax.jit(lambda k: run_episodes(Walks(), act, 1.0, k, 16))(key)
    full = jax.jit(lambda k: play_episodes(Walks(), act, 1.0, k, 16)[0])(key)
    distances = np.asarray(early.distances)
    np.testing.assert_allclose(distances, np.asarray(full.distances), rtol=1e-5, atol=1e-5)
    expected = np.asarray(early.returns) - np.asarray(early.lengths)
    np.testing.assert_allclose(distances, expected, rtol=1e-4, atol=1e-4)
    assert jax.jit(lambda k: run_episodes(Falls(), act, 1.0, k, 4))(key).distances is None
