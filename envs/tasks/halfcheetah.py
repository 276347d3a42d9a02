"""HalfCheetah-v4: run forward in the plane; never terminates."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import MjxEnv, TaskConfig


@dataclasses.dataclass(frozen=True)
class HalfCheetahConfig(TaskConfig):
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 0.1
    reset_noise_scale: float = 0.1
    exclude_current_positions_from_observation: bool = True


class HalfCheetah(MjxEnv):
    """Port of gymnasium.envs.mujoco.half_cheetah_v4.HalfCheetahEnv."""

    name = "halfcheetah"
    gym_id = "HalfCheetah-v4"
    xml_file = "half_cheetah.xml"
    frame_skip = 5
    config_cls = HalfCheetahConfig
    metric_names = ("x_position", "x_velocity", "reward_run", "reward_ctrl")
    config: HalfCheetahConfig

    def _observation_size(self) -> int:
        skip = 1 if self.config.exclude_current_positions_from_observation else 0
        return self.mj_model.nq - skip + self.mj_model.nv

    def _reset_noise(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        kp, kv = jax.random.split(key)
        s = self.config.reset_noise_scale
        qpos = self.init_qpos + self._uniform(kp, self.mj_model.nq, s)
        qvel = self.init_qvel + self._normal(kv, self.mj_model.nv, s)
        return qpos, qvel

    def _observation(self, data: mjx.Data) -> jax.Array:
        qpos = self._observed_qpos(data, 1)
        return jnp.concatenate([qpos, data.qvel])

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        c = self.config
        x_velocity = (after.qpos[0] - before.qpos[0]) / self.dt
        ctrl_cost = c.ctrl_cost_weight * jnp.sum(jnp.square(ctrl))
        forward_reward = c.forward_reward_weight * x_velocity
        metrics = {
            "x_position": after.qpos[0],
            "x_velocity": x_velocity,
            "reward_run": forward_reward,
            "reward_ctrl": -ctrl_cost,
        }
        return forward_reward - ctrl_cost, jnp.array(False), metrics
