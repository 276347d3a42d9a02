"""Swimmer-v4: swim forward through a viscous fluid; never terminates."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import XY_METRICS, MjxEnv, TaskConfig
from envs.model import SolverCaps


@dataclasses.dataclass(frozen=True)
class SwimmerConfig(TaskConfig):
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 1e-4
    reset_noise_scale: float = 0.1
    exclude_current_positions_from_observation: bool = True


class Swimmer(MjxEnv):
    """Port of gymnasium.envs.mujoco.swimmer_v4.SwimmerEnv (tracks the x/y of qpos[:2])."""

    name = "swimmer"
    gym_id = "Swimmer-v4"
    xml_file = "swimmer.xml"
    frame_skip = 4
    faithful_caps = SolverCaps(iterations=6, ls_iterations=4)
    config_cls = SwimmerConfig
    metric_names = ("reward_fwd", "reward_ctrl", *XY_METRICS, "forward_reward")
    excluded_qpos = 2
    config: SwimmerConfig

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        xy = self._xy_metrics(before.qpos[0:2], after.qpos[0:2])
        forward_reward = self.config.forward_reward_weight * xy["x_velocity"]
        ctrl_cost = self._ctrl_cost(ctrl)
        metrics = {
            "reward_fwd": forward_reward,
            "reward_ctrl": -ctrl_cost,
            **xy,
            "forward_reward": forward_reward,
        }
        return forward_reward - ctrl_cost, jnp.array(False), metrics
