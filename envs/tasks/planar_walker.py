"""What Hopper-v4 and Walker2d-v4 share: a planar walker on a slide-x/slide-z/hinge root.

Both v4 envs have the same observation (qpos without x, qvel clipped to ±10), reward
(forward velocity of qpos[0] + healthy reward - control cost), uniform reset noise
and strict z/angle health bounds on qpos[1]/qpos[2]; they differ in their XML, their
defaults and Hopper's extra state-range check.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import MjxEnv


class PlanarWalker(MjxEnv):
    """Shared base of Hopper and Walker2d.

    The config must provide forward_reward_weight, ctrl_cost_weight, healthy_reward,
    terminate_when_unhealthy, healthy_z_range, healthy_angle_range, reset_noise_scale
    and exclude_current_positions_from_observation.
    """

    # Gymnasium v4 only reports x_position/x_velocity in `info`; the reward terms are
    # added under the names Gymnasium's later versions use.
    metric_names = ("x_position", "x_velocity", "reward_forward", "reward_ctrl", "reward_survive")

    def _observed_qvel(self, data: mjx.Data) -> jax.Array:
        return jnp.clip(data.qvel, -10.0, 10.0)

    def _healthy_z_and_angle(self, data: mjx.Data) -> tuple[jax.Array, jax.Array]:
        """Strict bounds on torso height (qpos[1]) and torso angle (qpos[2]), as v4."""
        c = self.config
        z, angle = data.qpos[1], data.qpos[2]
        healthy_z = (c.healthy_z_range[0] < z) & (z < c.healthy_z_range[1])
        healthy_angle = (c.healthy_angle_range[0] < angle) & (angle < c.healthy_angle_range[1])
        return healthy_z, healthy_angle

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule (Walker2d): torso height and torso angle strictly inside their ranges."""
        healthy_z, healthy_angle = self._healthy_z_and_angle(data)
        return healthy_z & healthy_angle

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        x_velocity = self._x_velocity(before, after)
        ctrl_cost = self._ctrl_cost(ctrl)
        forward_reward = self.config.forward_reward_weight * x_velocity
        healthy_reward, terminated = self._healthy_terms(self.is_healthy(after))
        metrics = {
            "x_position": after.qpos[0],
            "x_velocity": x_velocity,
            "reward_forward": forward_reward,
            "reward_ctrl": -ctrl_cost,
            "reward_survive": healthy_reward,
        }
        return forward_reward + healthy_reward - ctrl_cost, terminated, metrics
