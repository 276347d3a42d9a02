"""Ant-v4: a quadruped walking forward in 3D; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import XY_METRICS, MjxEnv, TaskConfig, body_id
from envs.model import SolverCaps


@dataclasses.dataclass(frozen=True)
class AntConfig(TaskConfig):
    ctrl_cost_weight: float = 0.5
    use_contact_forces: bool = False
    contact_cost_weight: float = 5e-4
    healthy_reward: float = 1.0
    terminate_when_unhealthy: bool = True
    healthy_z_range: tuple[float, float] = (0.2, 1.0)
    contact_force_range: tuple[float, float] = (-1.0, 1.0)
    reset_noise_scale: float = 0.1
    exclude_current_positions_from_observation: bool = True


class Ant(MjxEnv):
    """Port of gymnasium.envs.mujoco.ant_v4.AntEnv.

    `reward_contact` is always reported (0 unless `use_contact_forces`); v4 instead
    overwrites `reward_ctrl` with the contact cost in that mode, which we do not copy.
    """

    name = "ant"
    gym_id = "Ant-v4"
    xml_file = "ant.xml"
    frame_skip = 5
    faithful_caps = SolverCaps(iterations=18, ls_iterations=12)
    config_cls = AntConfig
    metric_names = (
        "reward_forward",
        "reward_ctrl",
        "reward_survive",
        "reward_contact",
        *XY_METRICS,
        "forward_reward",
    )
    excluded_qpos = 2
    qvel_noise = "normal"
    config: AntConfig

    def _setup(self) -> None:
        self.needs_cfrc_ext = self.config.use_contact_forces
        self._torso = body_id(self.mj_model, "torso")

    def contact_forces(self, data: mjx.Data) -> jax.Array:
        """cfrc_ext clipped to contact_force_range, shape (nbody, 6)."""
        low, high = self.config.contact_force_range
        return jnp.clip(data._impl.cfrc_ext, low, high)

    def _extra_observation(self, data: mjx.Data) -> list[jax.Array]:
        return [self.contact_forces(data).ravel()] if self.config.use_contact_forces else []

    def _extra_observation_size(self) -> int:
        return 6 * self.mj_model.nbody if self.config.use_contact_forces else 0

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule: finite state and torso height within the closed z range."""
        min_z, max_z = self.config.healthy_z_range
        finite = jnp.all(jnp.isfinite(data.qpos)) & jnp.all(jnp.isfinite(data.qvel))
        z = data.qpos[2]
        return finite & (min_z <= z) & (z <= max_z)

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        c = self.config
        xy = self._xy_metrics(before.xipos[self._torso, :2], after.xipos[self._torso, :2])
        x_velocity = xy["x_velocity"]
        healthy_reward, terminated = self._healthy_terms(self.is_healthy(after))
        ctrl_cost = self._ctrl_cost(ctrl)
        if c.use_contact_forces:
            contact_cost = c.contact_cost_weight * jnp.sum(jnp.square(self.contact_forces(after)))
        else:
            contact_cost = jnp.zeros((), self.dtype)
        metrics = {
            "reward_forward": x_velocity,
            "reward_ctrl": -ctrl_cost,
            "reward_survive": healthy_reward,
            "reward_contact": -contact_cost,
            **xy,
            "forward_reward": x_velocity,
        }
        reward = x_velocity + healthy_reward - ctrl_cost - contact_cost
        return reward, terminated, metrics
