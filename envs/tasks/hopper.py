"""Hopper-v4: hop forward in the plane on one leg; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import TaskConfig
from envs.model import SolverCaps
from envs.tasks.planar_walker import PlanarWalker


@dataclasses.dataclass(frozen=True)
class HopperConfig(TaskConfig):
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 1e-3
    healthy_reward: float = 1.0
    terminate_when_unhealthy: bool = True
    healthy_state_range: tuple[float, float] = (-100.0, 100.0)
    healthy_z_range: tuple[float, float] = (0.7, float("inf"))
    healthy_angle_range: tuple[float, float] = (-0.2, 0.2)
    reset_noise_scale: float = 5e-3
    exclude_current_positions_from_observation: bool = True


class Hopper(PlanarWalker):
    """Port of gymnasium.envs.mujoco.hopper_v4.HopperEnv."""

    name = "hopper"
    gym_id = "Hopper-v4"
    xml_file = "hopper.xml"
    frame_skip = 4
    faithful_caps = SolverCaps(iterations=10, ls_iterations=10)
    config_cls = HopperConfig
    config: HopperConfig

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule: strict bounds on state[2:] (qpos[2:] and all of qvel), torso height
        and torso angle."""
        state = jnp.concatenate([data.qpos, data.qvel])[2:]
        min_state, max_state = self.config.healthy_state_range
        healthy_state = jnp.all((min_state < state) & (state < max_state))
        healthy_z, healthy_angle = self._healthy_z_and_angle(data)
        return healthy_state & healthy_z & healthy_angle
