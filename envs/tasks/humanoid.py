"""Humanoid-v4: a 3D biped walking forward; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from mujoco import mjx

from envs.base import XY_METRICS, MjxEnv, TaskConfig
from envs.model import SolverCaps


@dataclasses.dataclass(frozen=True)
class HumanoidConfig(TaskConfig):
    forward_reward_weight: float = 1.25
    ctrl_cost_weight: float = 0.1
    healthy_reward: float = 5.0
    terminate_when_unhealthy: bool = True
    healthy_z_range: tuple[float, float] = (1.0, 2.0)
    reset_noise_scale: float = 1e-2
    exclude_current_positions_from_observation: bool = True


class Humanoid(MjxEnv):
    """Port of gymnasium.envs.mujoco.humanoid_v4.HumanoidEnv.

    The observation includes cinert, cvel, qfrc_actuator and cfrc_ext of every body
    (world included), as v4 does; cfrc_ext needs the post-constraint RNE pass.
    """

    name = "humanoid"
    gym_id = "Humanoid-v4"
    xml_file = "humanoid.xml"
    frame_skip = 5
    faithful_caps = SolverCaps(iterations=12, ls_iterations=6)
    config_cls = HumanoidConfig
    needs_cfrc_ext = True
    metric_names = ("reward_linvel", "reward_quadctrl", "reward_alive", *XY_METRICS, "forward_reward")
    excluded_qpos = 2
    config: HumanoidConfig

    def _setup(self) -> None:
        mass = np.asarray(self.mj_model.body_mass, np.float64)
        self._mass = jnp.asarray(mass, self.dtype)
        self._total_mass = float(mass.sum())

    def _extra_observation(self, data: mjx.Data) -> list[jax.Array]:
        return [data._impl.cinert.ravel(), data.cvel.ravel(), data.qfrc_actuator, data._impl.cfrc_ext.ravel()]

    def _extra_observation_size(self) -> int:
        m = self.mj_model
        return 10 * m.nbody + 6 * m.nbody + m.nv + 6 * m.nbody

    def mass_center(self, data: mjx.Data) -> jax.Array:
        """x/y of the whole-body centre of mass, summed in v4's order (sum m*x / M)."""
        return (self._mass @ data.xipos)[:2] / self._total_mass

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule: torso height strictly inside the z range."""
        min_z, max_z = self.config.healthy_z_range
        z = data.qpos[2]
        return (min_z < z) & (z < max_z)

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        xy = self._xy_metrics(self.mass_center(before), self.mass_center(after))
        ctrl_cost = self._ctrl_cost(ctrl)
        forward_reward = self.config.forward_reward_weight * xy["x_velocity"]
        healthy_reward, terminated = self._healthy_terms(self.is_healthy(after))
        metrics = {
            "reward_linvel": forward_reward,
            "reward_quadctrl": -ctrl_cost,
            "reward_alive": healthy_reward,
            **xy,
            "forward_reward": forward_reward,
        }
        return forward_reward + healthy_reward - ctrl_cost, terminated, metrics
