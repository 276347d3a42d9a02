"""Tiny analytic environments whose optimal soft Q is known in closed form.

They speak the same functional protocol as the MJX tasks in `envs` (reset/step on a `State`),
so the real trainer runs on them unchanged; tests then compare the learned Q with the truth.
The registry (`registry.py`) lists them as `probe_<kind>`, without a MuJoCo model or a
Gymnasium counterpart. Rewards peak at a = `target` (inside the box) so the sampled actions
must concentrate there.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from envs.state import State

PROBE_KINDS = ("bandit", "two_step", "truncated_chain")


class ProbeEnv:
    """One of three probe problems (see `kind`).

    - `bandit`: one step, r(a) = 1 - |a - target|^2, then terminated.
      Optimal Q(s, a) = reward_scale * r(a).
    - `two_step`: obs one-hot(step); r = 0.5 * (1 - |a - target|^2) at step 0, then
      r(a) = 1 - |a - target|^2 at step 1 and terminated. Q(s1, a) = c r(a);
      Q(s0, a) = c r0(a) + gamma * E_pi Q(s1, .), about c r0(a) + gamma * c for a sharp policy.
    - `truncated_chain`: one state, r = 1 for every action, never terminates, truncated every
      `episode_length` steps. Q = c / (1 - gamma) only if truncations bootstrap.
    """

    metric_names: ClassVar[tuple[str, ...]] = ()
    dtype = jnp.float32

    def __init__(self, kind: str, action_size: int = 1, target: float = 0.5, episode_length: int = 5) -> None:
        if kind not in PROBE_KINDS:
            raise ValueError(f"unknown probe {kind!r}; valid: {list(PROBE_KINDS)}")
        self.kind = kind
        self.name = f"probe_{kind}"
        self._action_size = action_size
        self.target = target
        self.episode_length = {"bandit": 1, "two_step": 2}.get(kind, episode_length)

    @property
    def action_size(self) -> int:
        return self._action_size

    @property
    def observation_size(self) -> int:
        return 2 if self.kind == "two_step" else 1

    def _obs(self, steps: jax.Array) -> jax.Array:
        if self.kind == "two_step":
            return jax.nn.one_hot(steps, 2, dtype=jnp.float32)
        return jnp.ones((1,), jnp.float32)

    def reset(self, key: jax.Array) -> State:
        steps = jnp.zeros((), jnp.int32)
        zero = jnp.zeros((), jnp.float32)
        return State(
            data=None,
            obs=self._obs(steps),
            reward=zero,
            terminated=zero,
            truncated=zero,
            metrics={},
            info={"steps": steps, "rng": jax.random.split(key)[0], "nonfinite": zero, "bad_action": zero},
        )

    def peak_reward(self, action: jax.Array) -> jax.Array:
        return 1.0 - jnp.sum((action - self.target) ** 2, axis=-1)

    def step(self, state: State, action: jax.Array) -> State:
        steps = state.info["steps"]
        r = self.peak_reward(action)
        if self.kind == "bandit":
            reward, terminated = r, jnp.ones(())
        elif self.kind == "two_step":
            reward = jnp.where(steps == 0, 0.5 * r, r)
            terminated = (steps == 1).astype(jnp.float32)
        else:
            reward, terminated = jnp.ones(()), jnp.zeros(())
        steps = steps + 1
        truncated = ((steps >= self.episode_length) & (terminated == 0)).astype(jnp.float32)
        info: dict[str, Any] = dict(state.info, steps=steps)
        info["rng"] = jax.random.split(state.info["rng"])[0]
        return state.replace(
            obs=self._obs(jnp.minimum(steps, 1)),
            reward=reward.astype(jnp.float32),
            terminated=terminated.astype(jnp.float32),
            truncated=truncated,
            info=info,
        )
