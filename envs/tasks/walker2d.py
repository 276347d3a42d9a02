"""Walker2d-v4: walk forward in the plane on two legs; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import MjxEnv, TaskConfig


@dataclasses.dataclass(frozen=True)
class Walker2dConfig(TaskConfig):
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 1e-3
    healthy_reward: float = 1.0
    terminate_when_unhealthy: bool = True
    healthy_z_range: tuple[float, float] = (0.8, 2.0)
    healthy_angle_range: tuple[float, float] = (-1.0, 1.0)
    reset_noise_scale: float = 5e-3
    exclude_current_positions_from_observation: bool = True


class Walker2d(MjxEnv):
    """Port of gymnasium.envs.mujoco.walker2d_v4.Walker2dEnv.

    Gymnasium v4 only reports x_position/x_velocity in `info`; the reward terms are
    added under the names Gymnasium's later versions use.
    """

    name = "walker2d"
    gym_id = "Walker2d-v4"
    xml_file = "walker2d.xml"
    frame_skip = 4
    config_cls = Walker2dConfig
    metric_names = ("x_position", "x_velocity", "reward_forward", "reward_ctrl", "reward_survive")
    config: Walker2dConfig

    def _observation_size(self) -> int:
        skip = 1 if self.config.exclude_current_positions_from_observation else 0
        return self.mj_model.nq - skip + self.mj_model.nv

    def _reset_noise(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        kp, kv = jax.random.split(key)
        s = self.config.reset_noise_scale
        qpos = self.init_qpos + self._uniform(kp, self.mj_model.nq, s)
        qvel = self.init_qvel + self._uniform(kv, self.mj_model.nv, s)
        return qpos, qvel

    def _observation(self, data: mjx.Data) -> jax.Array:
        qpos = self._observed_qpos(data, 1)
        return jnp.concatenate([qpos, jnp.clip(data.qvel, -10.0, 10.0)])

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule: strict bounds on torso height and torso angle."""
        c = self.config
        z, angle = data.qpos[1], data.qpos[2]
        healthy_z = (c.healthy_z_range[0] < z) & (z < c.healthy_z_range[1])
        healthy_angle = (c.healthy_angle_range[0] < angle) & (angle < c.healthy_angle_range[1])
        return healthy_z & healthy_angle

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        c = self.config
        x_velocity = (after.qpos[0] - before.qpos[0]) / self.dt
        ctrl_cost = c.ctrl_cost_weight * jnp.sum(jnp.square(ctrl))
        forward_reward = c.forward_reward_weight * x_velocity
        healthy = self.is_healthy(after)
        healthy_reward = jnp.where(healthy | c.terminate_when_unhealthy, c.healthy_reward, 0.0)
        terminated = jnp.logical_not(healthy) & c.terminate_when_unhealthy
        metrics = {
            "x_position": after.qpos[0],
            "x_velocity": x_velocity,
            "reward_forward": forward_reward,
            "reward_ctrl": -ctrl_cost,
            "reward_survive": healthy_reward,
        }
        return forward_reward + healthy_reward - ctrl_cost, terminated, metrics
