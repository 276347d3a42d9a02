"""Humanoid-v4: a 3D biped walking forward; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from mujoco import mjx

from envs.base import MjxEnv, TaskConfig


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
    config_cls = HumanoidConfig
    needs_cfrc_ext = True
    metric_names = (
        "reward_linvel",
        "reward_quadctrl",
        "reward_alive",
        "x_position",
        "y_position",
        "distance_from_origin",
        "x_velocity",
        "y_velocity",
        "forward_reward",
    )
    config: HumanoidConfig

    def _setup(self) -> None:
        mass = np.asarray(self.mj_model.body_mass, np.float64)
        self._mass = jnp.asarray(mass, self.dtype)
        self._total_mass = float(mass.sum())

    def _observation_size(self) -> int:
        m = self.mj_model
        skip = 2 if self.config.exclude_current_positions_from_observation else 0
        return m.nq - skip + m.nv + 10 * m.nbody + 6 * m.nbody + m.nv + 6 * m.nbody

    def _reset_noise(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        kp, kv = jax.random.split(key)
        s = self.config.reset_noise_scale
        qpos = self.init_qpos + self._uniform(kp, self.mj_model.nq, s)
        qvel = self.init_qvel + self._uniform(kv, self.mj_model.nv, s)
        return qpos, qvel

    def _observation(self, data: mjx.Data) -> jax.Array:
        qpos = self._observed_qpos(data, 2)
        return jnp.concatenate(
            [
                qpos,
                data.qvel,
                data._impl.cinert.ravel(),
                data.cvel.ravel(),
                data.qfrc_actuator,
                data._impl.cfrc_ext.ravel(),
            ]
        )

    def mass_center(self, data: mjx.Data) -> jax.Array:
        """x/y of the whole-body centre of mass, summed in v4's order (sum m*x / M)."""
        return (self._mass @ data.xipos)[:2] / self._total_mass

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule: torso height strictly inside the z range."""
        min_z, max_z = self.config.healthy_z_range
        z = data.qpos[2]
        return (min_z < z) & (z < max_z)

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        c = self.config
        xy_after = self.mass_center(after)
        x_velocity, y_velocity = (xy_after - self.mass_center(before)) / self.dt
        ctrl_cost = c.ctrl_cost_weight * jnp.sum(jnp.square(ctrl))
        forward_reward = c.forward_reward_weight * x_velocity
        healthy = self.is_healthy(after)
        healthy_reward = jnp.where(healthy | c.terminate_when_unhealthy, c.healthy_reward, 0.0)
        terminated = jnp.logical_not(healthy) & c.terminate_when_unhealthy
        metrics = {
            "reward_linvel": forward_reward,
            "reward_quadctrl": -ctrl_cost,
            "reward_alive": healthy_reward,
            "x_position": xy_after[0],
            "y_position": xy_after[1],
            "distance_from_origin": jnp.linalg.norm(xy_after),
            "x_velocity": x_velocity,
            "y_velocity": y_velocity,
            "forward_reward": forward_reward,
        }
        return forward_reward + healthy_reward - ctrl_cost, terminated, metrics
