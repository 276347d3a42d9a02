"""Swimmer-v4: swim forward through a viscous fluid; never terminates."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import MjxEnv, TaskConfig


@dataclasses.dataclass(frozen=True)
class SwimmerConfig(TaskConfig):
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 1e-4
    reset_noise_scale: float = 0.1
    exclude_current_positions_from_observation: bool = True


class Swimmer(MjxEnv):
    """Port of gymnasium.envs.mujoco.swimmer_v4.SwimmerEnv."""

    name = "swimmer"
    gym_id = "Swimmer-v4"
    xml_file = "swimmer.xml"
    frame_skip = 4
    config_cls = SwimmerConfig
    metric_names = (
        "reward_fwd",
        "reward_ctrl",
        "x_position",
        "y_position",
        "distance_from_origin",
        "x_velocity",
        "y_velocity",
        "forward_reward",
    )
    config: SwimmerConfig

    def _observation_size(self) -> int:
        skip = 2 if self.config.exclude_current_positions_from_observation else 0
        return self.mj_model.nq - skip + self.mj_model.nv

    def _reset_noise(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        kp, kv = jax.random.split(key)
        s = self.config.reset_noise_scale
        qpos = self.init_qpos + self._uniform(kp, self.mj_model.nq, s)
        qvel = self.init_qvel + self._uniform(kv, self.mj_model.nv, s)
        return qpos, qvel

    def _observation(self, data: mjx.Data) -> jax.Array:
        qpos = self._observed_qpos(data, 2)
        return jnp.concatenate([qpos, data.qvel])

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        c = self.config
        xy_after = after.qpos[0:2]
        x_velocity, y_velocity = (xy_after - before.qpos[0:2]) / self.dt
        forward_reward = c.forward_reward_weight * x_velocity
        ctrl_cost = c.ctrl_cost_weight * jnp.sum(jnp.square(ctrl))
        metrics = {
            "reward_fwd": forward_reward,
            "reward_ctrl": -ctrl_cost,
            "x_position": xy_after[0],
            "y_position": xy_after[1],
            "distance_from_origin": jnp.linalg.norm(xy_after),
            "x_velocity": x_velocity,
            "y_velocity": y_velocity,
            "forward_reward": forward_reward,
        }
        return forward_reward - ctrl_cost, jnp.array(False), metrics
