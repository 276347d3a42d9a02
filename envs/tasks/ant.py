"""Ant-v4: a quadruped walking forward in 3D; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from mujoco import mjx

from envs.base import MjxEnv, TaskConfig, body_id


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
    config_cls = AntConfig
    metric_names = (
        "reward_forward",
        "reward_ctrl",
        "reward_survive",
        "reward_contact",
        "x_position",
        "y_position",
        "distance_from_origin",
        "x_velocity",
        "y_velocity",
        "forward_reward",
    )
    config: AntConfig

    def _setup(self) -> None:
        self.needs_cfrc_ext = self.config.use_contact_forces
        self._torso = body_id(self.mj_model, "torso")

    def _observation_size(self) -> int:
        skip = 2 if self.config.exclude_current_positions_from_observation else 0
        contact = 6 * self.mj_model.nbody if self.config.use_contact_forces else 0
        return self.mj_model.nq - skip + self.mj_model.nv + contact

    def _reset_noise(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        # v4 adds the noise to the free joint's quaternion without renormalising it.
        kp, kv = jax.random.split(key)
        s = self.config.reset_noise_scale
        qpos = self.init_qpos + self._uniform(kp, self.mj_model.nq, s)
        qvel = self.init_qvel + self._normal(kv, self.mj_model.nv, s)
        return qpos, qvel

    def contact_forces(self, data: mjx.Data) -> jax.Array:
        """cfrc_ext clipped to contact_force_range, shape (nbody, 6)."""
        low, high = self.config.contact_force_range
        return jnp.clip(data._impl.cfrc_ext, low, high)

    def _observation(self, data: mjx.Data) -> jax.Array:
        qpos = self._observed_qpos(data, 2)
        parts = [qpos, data.qvel]
        if self.config.use_contact_forces:
            parts.append(self.contact_forces(data).ravel())
        return jnp.concatenate(parts)

    def is_healthy(self, data: mjx.Data) -> jax.Array:
        """v4 rule: finite state and torso height within the closed z range."""
        min_z, max_z = self.config.healthy_z_range
        finite = jnp.all(jnp.isfinite(data.qpos)) & jnp.all(jnp.isfinite(data.qvel))
        z = data.qpos[2]
        return finite & (min_z <= z) & (z <= max_z)

    def _reward(self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array):
        c = self.config
        xy_after = after.xipos[self._torso, :2]
        x_velocity, y_velocity = (xy_after - before.xipos[self._torso, :2]) / self.dt
        healthy = self.is_healthy(after)
        healthy_reward = jnp.where(healthy | c.terminate_when_unhealthy, c.healthy_reward, 0.0)
        ctrl_cost = c.ctrl_cost_weight * jnp.sum(jnp.square(ctrl))
        if c.use_contact_forces:
            contact_cost = c.contact_cost_weight * jnp.sum(jnp.square(self.contact_forces(after)))
        else:
            contact_cost = jnp.zeros((), self.dtype)
        terminated = jnp.logical_not(healthy) & c.terminate_when_unhealthy
        metrics = {
            "reward_forward": x_velocity,
            "reward_ctrl": -ctrl_cost,
            "reward_survive": healthy_reward,
            "reward_contact": -contact_cost,
            "x_position": xy_after[0],
            "y_position": xy_after[1],
            "distance_from_origin": jnp.linalg.norm(xy_after),
            "x_velocity": x_velocity,
            "y_velocity": y_velocity,
            "forward_reward": x_velocity,
        }
        reward = x_velocity + healthy_reward - ctrl_cost - contact_cost
        return reward, terminated, metrics
