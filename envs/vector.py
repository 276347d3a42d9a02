"""A batch of independent environments with per-env auto-reset and episode stats.

Everything is pure and shape-static, so `VecEnv.step` can be the body of a
`lax.scan` in a fully jitted trainer. An env that terminates, truncates or whose
physics went non-finite is reset in the same step; the transition's true next
observation is kept in `final_obs` so truncated transitions can be bootstrapped.

A reset costs an `mjx.forward` per env, so `step` only pays for the envs that ended:
a `lax.switch` picks no reset, a reset of up to `reset_capacity` gathered envs, or a
reset of all of them. Under `vmap` (the trainer runs seeds that way) a branch choice
that differs per batch member would turn into computing every branch; pass the vmap's
`axis_name` as `batch_axis` and the choice is made once for the whole batch (the
largest count of ended envs over it), so the switch stays a real branch.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from envs.base import MjxEnv
from envs.state import State


@struct.dataclass
class VecState:
    """The batch after `reset` or `step` (leading axis = env index).

    Attributes:
      env_state: per-env `State`, already auto-reset where an episode just ended.
      reward, terminated, truncated: the transition just taken, shape (num_envs,);
        terminated/truncated are float32 0/1.
      final_obs: the transition's true next observation (pre-reset), (num_envs, obs).
      metrics: the transition's per-term quantities, each (num_envs,).
      ep_running_return / ep_running_length / ep_running_metrics: sums over the
        episode in progress (zero right after a reset). Running metrics are the sums
        of the `reward_*` terms.
      ep_done: float32 0/1, 1 where an episode ended on this step.
      ep_return / ep_length / ep_metrics: the completed episode's totals where
        `ep_done`, 0 elsewhere.
      episodes: int32 total episodes completed since `reset`.
      nan_resets: int32 total resets caused by non-finite physics.
      sanitised_actions: int32 total actions that had non-finite entries (zeroed).
    """

    env_state: State
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    final_obs: jax.Array
    metrics: dict[str, jax.Array]
    ep_running_return: jax.Array
    ep_running_length: jax.Array
    ep_running_metrics: dict[str, jax.Array]
    ep_done: jax.Array
    ep_return: jax.Array
    ep_length: jax.Array
    ep_metrics: dict[str, jax.Array]
    episodes: jax.Array
    nan_resets: jax.Array
    sanitised_actions: jax.Array

    @property
    def obs(self) -> jax.Array:
        """The observation to act on next (a fresh reset obs where an episode ended)."""
        return self.env_state.obs


def _per_env(env: MjxEnv, fn: Any, fresh: State, current: State) -> State:
    """`fn(fresh_leaf, current_leaf)` on every per-env leaf (leading env axis); a leaf that is
    one buffer for all the worlds (`MjxEnv.world_shared`; probes have none) stays as `current`
    has it."""
    shared = getattr(env, "world_shared", None)
    if shared is None:
        return jax.tree.map(fn, fresh, current)

    def leaf(path: Any, a: jax.Array, b: jax.Array) -> jax.Array:
        return b if shared(path, b) else fn(a, b)

    return jax.tree_util.tree_map_with_path(leaf, fresh, current)


def _where(env: MjxEnv, mask: jax.Array, on_true: State, on_false: State) -> State:
    """Per-env select between two batched States."""

    def pick(a: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b)

    return _per_env(env, pick, on_true, on_false)


class VecEnv:
    """`num_envs` copies of `env`, vmapped, with auto-reset."""

    def __init__(
        self,
        env: MjxEnv,
        num_envs: int,
        *,
        batch_axis: str | None = None,
        reset_capacity: int | None = None,
    ) -> None:
        """`batch_axis`: the `axis_name` of an enclosing `vmap` (see the module docstring).
        `reset_capacity`: how many ended envs the cheap reset branch handles; by default
        an eighth of the envs (at least 1). More ended envs than that reset them all."""
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if reset_capacity is None:
            reset_capacity = max(1, -(-num_envs // 8))
        if not isinstance(reset_capacity, int) or reset_capacity < 1:
            raise ValueError(f"reset_capacity must be a positive int, got {reset_capacity!r}")
        self.env = env
        self.num_envs = num_envs
        self.batch_axis = batch_axis
        self.reset_capacity = min(reset_capacity, num_envs)
        self._sum_keys = tuple(k for k in env.metric_names if k.startswith("reward_"))

    def reset(self, key: jax.Array) -> VecState:
        """Reset every env with its own key split from `key`."""
        env_state = jax.vmap(self.env.reset)(jax.random.split(key, self.num_envs))
        n, dtype = self.num_envs, self.env.dtype
        zeros = jnp.zeros((n,), dtype)
        zeros_f32 = jnp.zeros((n,), jnp.float32)
        zeros_i32 = jnp.zeros((n,), jnp.int32)
        scalar0 = jnp.zeros((), jnp.int32)
        return VecState(
            env_state=env_state,
            reward=zeros,
            terminated=zeros_f32,
            truncated=zeros_f32,
            final_obs=env_state.obs,
            metrics=dict(env_state.metrics),
            ep_running_return=zeros,
            ep_running_length=zeros_i32,
            ep_running_metrics={k: zeros for k in self._sum_keys},
            ep_done=zeros_f32,
            ep_return=zeros,
            ep_length=zeros_i32,
            ep_metrics={k: zeros for k in self._sum_keys},
            episodes=scalar0,
            nan_resets=scalar0,
            sanitised_actions=scalar0,
        )

    def step(self, vs: VecState, actions: jax.Array) -> VecState:
        """Step all envs with `actions` of shape (num_envs, action_size) in [-1, 1]."""
        actions = jnp.asarray(actions)
        expected = (self.num_envs, self.env.action_size)
        if actions.shape != expected:
            raise ValueError(
                f"{self.env.name}: actions must have shape {expected}, got {tuple(actions.shape)}"
            )
        nxt = jax.vmap(self.env.step)(vs.env_state, actions)
        done = (nxt.terminated > 0) | (nxt.truncated > 0)

        ret = vs.ep_running_return + nxt.reward
        length = nxt.info["steps"]
        sums = {k: vs.ep_running_metrics[k] + nxt.metrics[k] for k in self._sum_keys}

        env_state = self._reset_ended(nxt, done)

        zero = jnp.zeros_like(ret)
        return VecState(
            env_state=env_state,
            reward=nxt.reward,
            terminated=nxt.terminated,
            truncated=nxt.truncated,
            final_obs=nxt.obs,
            metrics=nxt.metrics,
            ep_running_return=jnp.where(done, zero, ret),
            ep_running_length=jnp.where(done, 0, length).astype(jnp.int32),
            ep_running_metrics={k: jnp.where(done, zero, v) for k, v in sums.items()},
            ep_done=done.astype(jnp.float32),
            ep_return=jnp.where(done, ret, zero),
            ep_length=jnp.where(done, length, 0).astype(jnp.int32),
            ep_metrics={k: jnp.where(done, v, zero) for k, v in sums.items()},
            episodes=vs.episodes + jnp.sum(done).astype(jnp.int32),
            nan_resets=vs.nan_resets + jnp.sum(nxt.info["nonfinite"] > 0).astype(jnp.int32),
            sanitised_actions=vs.sanitised_actions + jnp.sum(nxt.info["bad_action"] > 0).astype(jnp.int32),
        )

    def _reset_ended(self, nxt: State, done: jax.Array) -> State:
        """`nxt` with every env where `done` replaced by a fresh reset from its own key."""
        reset = jax.vmap(self.env.reset)

        def reset_all(s: State) -> State:
            return _where(self.env, done, reset(s.info["rng"]), s)

        def reset_some(s: State) -> State:
            # The ended envs' indices, padded with an out-of-range index whose writes drop.
            (idx,) = jnp.nonzero(done, size=self.reset_capacity, fill_value=self.num_envs)
            fresh = reset(jnp.take(s.info["rng"], idx, axis=0, mode="clip"))
            return _per_env(self.env, lambda a, b: b.at[idx].set(a, mode="drop"), fresh, s)

        ended = jnp.sum(done).astype(jnp.int32)
        if self.batch_axis is not None:
            ended = jax.lax.pmax(ended, self.batch_axis)
        branches = [lambda s: s, reset_some, reset_all]
        if self.reset_capacity == self.num_envs:
            branches.pop(1)
            index = jnp.minimum(ended, 1)
        else:
            index = jnp.where(ended == 0, 0, jnp.where(ended <= self.reset_capacity, 1, 2))
        return jax.lax.switch(index, branches, nxt)
