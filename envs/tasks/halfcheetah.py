"""HalfCheetah-v4: run forward in the plane; never terminates."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import MjxEnv, TaskConfig
from envs.model import SolverCaps


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
    faithful_caps = SolverCaps(iterations=12, ls_iterations=10)
    config_cls = HalfCheetahConfig
    metric_names = ("x_position", "x_velocity", "reward_run", "reward_ctrl")
    qvel_noise = "normal"
    config: HalfCheetahConfig

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        x_velocity = self._x_velocity(before, after)
        ctrl_cost = self._ctrl_cost(ctrl)
        forward_reward = self.config.forward_reward_weight * x_velocity
        metrics = {
            "x_position": after.qpos[0],
            "x_velocity": x_velocity,
            "reward_run": forward_reward,
            "reward_ctrl": -ctrl_cost,
        }
        return forward_reward - ctrl_cost, jnp.array(False), metrics
