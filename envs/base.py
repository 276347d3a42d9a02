"""The task-independent part of an MJX port of a Gymnasium MuJoCo -v4 task.

`MjxEnv` owns the physics (model loading, action rescaling, frame skip, reset
noise, non-finite guards, truncation) and the definitions the six v4 tasks share
(reset noise law, qpos/qvel observation, control cost, forward velocity, healthy
reward and termination, planar x/y metrics). A task module declares a few class
attributes and supplies only what is specific to it, chiefly `_reward`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import mujoco
import numpy as np
from mujoco import mjx

from envs.contact_frames import c_plane_capsule_frames
from envs.model import PhysicsOptions, SolverCaps, load_mj_model, mjx_compatible
from envs.state import State


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Base of the per-task option dataclasses (Gymnasium v4 constructor arguments).

    It declares no fields: each task lists its own, in Gymnasium's order and with
    Gymnasium's defaults. The shared helpers of `MjxEnv` read them by Gymnasium's
    names (`reset_noise_scale`, `ctrl_cost_weight`, `healthy_reward`, ...), so a
    task only needs the fields of the helpers it uses.
    """


COMMON_OPTIONS = (
    "episode_length",
    "physics",
    "solver_iterations",
    "ls_iterations",
    "c_contact_frames",
    "warp_worlds",
)

# The planar-position metrics Ant, Humanoid and Swimmer report (v4 `info` names, in
# v4's order), as built by `MjxEnv._xy_metrics`; "forward_reward" follows them in v4.
XY_METRICS = ("x_position", "y_position", "distance_from_origin", "x_velocity", "y_velocity")


class MjxEnv:
    """A functional, `jit`/`vmap`-friendly port of one Gymnasium MuJoCo -v4 task.

    Actions are expected in [-1, 1]^action_size and are mapped affinely onto each
    actuator's ctrlrange; the control cost is computed on that rescaled (ctrl-space)
    action, which is exactly what Gymnasium computes when handed the rescaled action.
    """

    name: ClassVar[str]
    gym_id: ClassVar[str]
    xml_file: ClassVar[str]
    frame_skip: ClassVar[int]
    config_cls: ClassVar[type[TaskConfig]]
    metric_names: ClassVar[tuple[str, ...]]
    # Newton caps no measured state reaches (`python -m envs.solver_caps`, envs/README.md):
    # the "faithful" physics tier, bit-identical to the XML's caps and faster under vmap.
    faithful_caps: ClassVar[SolverCaps]
    needs_cfrc_ext: bool = False
    # Leading qpos coordinates (the global x, or x and y) that v4 drops from the
    # observation when `exclude_current_positions_from_observation` is set: 1 for the
    # planar tasks, 2 for Ant, Humanoid and Swimmer.
    excluded_qpos: ClassVar[int] = 1
    # v4's law for the qvel reset noise of scale s: uniform(-s, s) for most tasks,
    # s * N(0, 1) for Ant and HalfCheetah. qpos noise is always uniform(-s, s).
    qvel_noise: ClassVar[Literal["uniform", "normal"]] = "uniform"
    # The task's TaskConfig subclass instance (tasks narrow the annotation).
    config: Any

    def __init__(
        self,
        *,
        episode_length: int = 1000,
        physics: str = "faithful",
        solver_iterations: int | None = None,
        ls_iterations: int | None = None,
        c_contact_frames: bool = True,
        warp_worlds: int | None = None,
        **task_options: Any,
    ) -> None:
        valid = {f.name for f in dataclasses.fields(self.config_cls)}
        unknown = sorted(set(task_options) - valid)
        if unknown:
            allowed = sorted(valid | set(COMMON_OPTIONS))
            raise ValueError(f"unknown option(s) {unknown} for env {self.name!r}; valid options: {allowed}")
        if not isinstance(episode_length, int) or episode_length < 1:
            raise ValueError(f"episode_length must be a positive int, got {episode_length!r}")
        self.config = self.config_cls(**task_options)
        self.episode_length = episode_length
        self.physics = PhysicsOptions(physics, solver_iterations, ls_iterations, c_contact_frames)
        self.xml_model = load_mj_model(self.xml_file)
        self.mj_model = mjx_compatible(self.xml_model, self.physics, self.faithful_caps)
        self.mjx_model = mjx.put_model(self.mj_model, impl="jax")
        self._template = mjx.make_data(self.mjx_model, impl="jax")
        self._shared_paths: frozenset[str] | None = None
        if self.physics.tier == "warp":
            self._use_warp(warp_worlds)
        elif warp_worlds is not None:
            raise ValueError("warp_worlds applies only to physics='warp'")
        self.dtype = self._template.qpos.dtype
        low, high = self.mj_model.actuator_ctrlrange.T
        self._ctrl_center = jnp.asarray((high + low) / 2.0, self.dtype)
        self._ctrl_half = jnp.asarray((high - low) / 2.0, self.dtype)
        self.init_qpos = np.asarray(self.mj_model.qpos0, np.float64).copy()
        self.init_qvel = np.zeros(self.mj_model.nv)
        self._setup()

    def _use_warp(self, worlds: int | None) -> None:
        """Step with MuJoCo Warp. Its contact buffer is shared by all the worlds (envs, over
        every seed) stepped together, so it is sized for `worlds` of the contacts and
        constraint rows MJX's JAX collider allocates per world."""
        if jax.config.read("jax_enable_x64"):
            raise ValueError("physics='warp' is float32 only; disable jax_enable_x64")
        if self.needs_cfrc_ext:
            raise ValueError(
                f"physics='warp' cannot give {self.name}'s contact forces (cfrc_ext): "
                "mujoco-mjx's rne_postconstraint runs only on its JAX implementation"
            )
        if isinstance(worlds, bool) or not isinstance(worlds, int) or worlds < 1:
            raise ValueError(f"physics='warp' needs warp_worlds, a positive int, got {worlds!r}")
        if importlib.util.find_spec("warp") is None:
            raise ValueError("physics='warp' needs warp-lang: pip install 'mjx_nclql[warp]'")

        ncon = int(self._template._impl.contact.dist.shape[0])
        nefc = int(self._template._impl.efc_J.shape[0])
        self.mjx_model = mjx.put_model(self.mj_model, impl="warp")
        self._template = mjx.make_data(
            self.mj_model, impl="warp", naconmax=max(ncon, 1) * worlds, njmax=max(nefc, 1)
        )

    def world_shared(self, path: tuple[Any, ...], leaf: jax.Array) -> bool:
        """Whether the State leaf at `path` is one buffer for all the worlds, not one per env
        (MuJoCo Warp's contact arrays and counts): per-env selects and resets leave it as the
        step wrote it (collision fills it anew every step)."""
        if self.physics.tier != "warp":
            return False
        if self._shared_paths is None:
            # A leaf is shared when its shape does not depend on how many envs are batched.
            def shapes(n: int) -> list[tuple[Any, Any]]:
                keys = jax.ShapeDtypeStruct((n, 2), jnp.uint32)
                return jax.tree_util.tree_leaves_with_path(jax.eval_shape(jax.vmap(self.reset), keys))

            self._shared_paths = frozenset(
                jax.tree_util.keystr(p)
                for (p, x), (_, y) in zip(shapes(2), shapes(3), strict=True)
                if x.shape == y.shape
            )
        return jax.tree_util.keystr(path) in self._shared_paths

    # ----------------------------------------------------------------- properties
    @property
    def action_size(self) -> int:
        return int(self.mj_model.nu)

    @property
    def observation_size(self) -> int:
        return self._observation_size()

    @property
    def dt(self) -> float:
        """Seconds per env step (timestep * frame_skip), as Gymnasium's `env.dt`."""
        return float(self.mj_model.opt.timestep) * self.frame_skip

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, episode_length={self.episode_length})"

    def _physics_context(self) -> contextlib.AbstractContextManager[None]:
        """Trace-time collider overrides (see envs/contact_frames.py)."""
        if self.physics.c_contact_frames and self.physics.tier != "warp":
            return c_plane_capsule_frames()
        return contextlib.nullcontext()

    # ----------------------------------------------------------------- task hooks
    def _setup(self) -> None:
        """Cache task constants (body ids, masses) once the model exists."""

    def _reward(
        self, before: mjx.Data, after: mjx.Data, ctrl: jax.Array
    ) -> tuple[jax.Array, jax.Array, dict[str, jax.Array]]:
        """Return (reward, terminated as bool, metrics) for one env step.

        `metrics` must hold exactly `metric_names`; the helpers below build the
        shared terms (control cost, forward velocity, healthy reward, x/y metrics).
        """
        raise NotImplementedError

    def _extra_observation(self, data: mjx.Data) -> list[jax.Array]:
        """Observation parts after qpos and qvel (Humanoid's com-based terms, Ant's
        contact forces); none by default. Keep `_extra_observation_size` in step."""
        return []

    def _extra_observation_size(self) -> int:
        """Total length of `_extra_observation`, known without tracing the model."""
        return 0

    def _observed_qvel(self, data: mjx.Data) -> jax.Array:
        """qvel as it enters the observation (Hopper and Walker2d clip it)."""
        return data.qvel

    # ------------------------------------------------------------ observation
    def _n_excluded_qpos(self) -> int:
        """How many leading qpos entries the observation drops under this config."""
        exclude = getattr(self.config, "exclude_current_positions_from_observation", False)
        return self.excluded_qpos if exclude else 0

    def _observed_qpos(self, data: mjx.Data) -> jax.Array:
        """qpos minus the leading global x (and y) coordinates when v4 excludes them."""
        n = self._n_excluded_qpos()
        return data.qpos[n:] if n else data.qpos

    def _observation_size(self) -> int:
        """Length of `_observation` (qpos, qvel and extras), without tracing anything."""
        return self.mj_model.nq - self._n_excluded_qpos() + self.mj_model.nv + self._extra_observation_size()

    def _observation(self, data: mjx.Data) -> jax.Array:
        """v4's observation: observed qpos, observed qvel, then any task extras."""
        parts = [self._observed_qpos(data), self._observed_qvel(data), *self._extra_observation(data)]
        return jnp.concatenate(parts)

    # ------------------------------------------------------------- reset noise
    def _uniform(self, key: jax.Array, size: int, scale: float) -> jax.Array:
        return jax.random.uniform(key, (size,), self.dtype, minval=-scale, maxval=scale)

    def _normal(self, key: jax.Array, size: int, scale: float) -> jax.Array:
        return scale * jax.random.normal(key, (size,), self.dtype)

    def _reset_noise(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Return the (qpos, qvel) a fresh episode starts from.

        v4's `reset_model`: init_qpos + uniform(±s) and init_qvel + `qvel_noise` of
        scale s = `reset_noise_scale`, qpos drawn from the first half of `key`'s
        split and qvel from the second (Ant's free-joint quaternion gets the noise
        without renormalisation, as in v4).
        """
        kp, kv = jax.random.split(key)
        s = self.config.reset_noise_scale
        qpos = self.init_qpos + self._uniform(kp, self.mj_model.nq, s)
        if self.qvel_noise == "uniform":
            qvel = self.init_qvel + self._uniform(kv, self.mj_model.nv, s)
        elif self.qvel_noise == "normal":
            qvel = self.init_qvel + self._normal(kv, self.mj_model.nv, s)
        else:
            raise ValueError(
                f"{self.name}: qvel_noise must be 'uniform' or 'normal', got {self.qvel_noise!r}"
            )
        return qpos, qvel

    # ---------------------------------------------------------- reward helpers
    def _ctrl_cost(self, ctrl: jax.Array) -> jax.Array:
        """`ctrl_cost_weight * sum(ctrl**2)` on the rescaled, ctrl-space action."""
        return self.config.ctrl_cost_weight * jnp.sum(jnp.square(ctrl))

    def _x_velocity(self, before: mjx.Data, after: mjx.Data) -> jax.Array:
        """Forward velocity of the planar tasks: displacement of qpos[0] over `dt`."""
        return (after.qpos[0] - before.qpos[0]) / self.dt

    def _xy_metrics(self, xy_before: jax.Array, xy_after: jax.Array) -> dict[str, jax.Array]:
        """The `XY_METRICS` of a tracked point (Ant's torso, Humanoid's mass centre,
        Swimmer's qpos[:2]) from its x/y before and after the step."""
        x_velocity, y_velocity = (xy_after - xy_before) / self.dt
        return {
            "x_position": xy_after[0],
            "y_position": xy_after[1],
            "distance_from_origin": jnp.linalg.norm(xy_after),
            "x_velocity": x_velocity,
            "y_velocity": y_velocity,
        }

    def _healthy_terms(self, healthy: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(healthy_reward, terminated) from v4's health rule.

        As v4: the healthy reward is paid while healthy, and always when
        `terminate_when_unhealthy` (the episode then ends on the first unhealthy
        step, which still earns it); termination only under that flag.
        """
        c = self.config
        healthy_reward = jnp.where(healthy | c.terminate_when_unhealthy, c.healthy_reward, 0.0)
        terminated = jnp.logical_not(healthy) & c.terminate_when_unhealthy
        return healthy_reward, terminated

    # ------------------------------------------------------------------- the API
    def reset(self, key: jax.Array) -> State:
        """Start a new episode with fresh reset noise drawn from `key`."""
        next_key, noise_key = jax.random.split(key)
        qpos, qvel = self._reset_noise(noise_key)
        return self.state_from(qpos, qvel, next_key)

    def state_from(self, qpos: jax.Array, qvel: jax.Array, key: jax.Array) -> State:
        """A step-0 State at (qpos, qvel), as Gymnasium's `set_state` after `reset`.

        ctrl, cfrc_ext and the other derived fields start from zero, as after
        `mj_resetData`; `key` becomes `info["rng"]` for the next reset.
        """
        qpos = qpos.astype(self.dtype)
        data = self._template.replace(qpos=qpos, qvel=qvel.astype(self.dtype))
        with self._physics_context():
            data = mjx.forward(self.mjx_model, data)
        # MJX's kinematics writes normalised quaternions back into qpos; MuJoCo C (and
        # so Gymnasium's reset observation) keeps qpos as set, e.g. Ant's noisy quat.
        data = data.replace(qpos=qpos)
        zero = jnp.zeros((), self.dtype)
        return State(
            data=data,
            obs=self._observation(data),
            reward=zero,
            terminated=jnp.zeros((), jnp.float32),
            truncated=jnp.zeros((), jnp.float32),
            metrics={k: zero for k in self.metric_names},
            info={
                "steps": jnp.zeros((), jnp.int32),
                "rng": key,
                "nonfinite": jnp.zeros((), jnp.float32),
                "bad_action": jnp.zeros((), jnp.float32),
            },
        )

    def rescale_action(self, action: jax.Array) -> jax.Array:
        """Map [-1, 1] onto each actuator's ctrlrange (exact for the symmetric ranges)."""
        return self._ctrl_center + action * self._ctrl_half

    def check_action(self, action: Any) -> jax.Array:
        """Validate the action's shape at trace time; it must be `(action_size,)`."""
        action = jnp.asarray(action)
        if action.shape != (self.action_size,):
            raise ValueError(
                f"{self.name}: action must have shape ({self.action_size},), got {tuple(action.shape)}"
            )
        return action

    def step(self, state: State, action: jax.Array) -> State:
        """Advance one env step (frame_skip physics steps) with `action` in [-1, 1]."""
        action = self.check_action(action).astype(self.dtype)
        finite_action = jnp.isfinite(action)
        bad_action = jnp.logical_not(jnp.all(finite_action)).astype(jnp.float32)
        ctrl = self.rescale_action(jnp.where(finite_action, action, 0.0))

        before = state.data
        data = before.replace(ctrl=ctrl)
        with self._physics_context():
            data = jax.lax.fori_loop(0, self.frame_skip, lambda _, d: mjx.step(self.mjx_model, d), data)
        if self.needs_cfrc_ext:
            # Gymnasium calls mj_rnePostConstraint after mj_step so cfrc_ext is fresh.
            data = mjx.rne_postconstraint(self.mjx_model, data)

        obs = self._observation(data)
        reward, terminated, metrics = self._reward(before, data, ctrl)

        finite = (
            jnp.all(jnp.isfinite(data.qpos))
            & jnp.all(jnp.isfinite(data.qvel))
            & jnp.all(jnp.isfinite(obs))
            & jnp.isfinite(reward)
        )
        obs = jnp.where(finite, obs, 0.0)
        reward = jnp.where(finite, reward, 0.0)
        metrics = {k: jnp.where(finite, v, 0.0).astype(self.dtype) for k, v in metrics.items()}
        terminated = jnp.logical_or(terminated, jnp.logical_not(finite))

        steps = state.info["steps"] + 1
        truncated = jnp.logical_and(steps >= self.episode_length, jnp.logical_not(terminated))
        info = dict(state.info)
        info.update(
            steps=steps,
            nonfinite=jnp.logical_not(finite).astype(jnp.float32),
            bad_action=bad_action,
        )
        return State(
            data=data,
            obs=obs.astype(self.dtype),
            reward=reward.astype(self.dtype),
            terminated=terminated.astype(jnp.float32),
            truncated=truncated.astype(jnp.float32),
            metrics=metrics,
            info=info,
        )


def body_id(model: mujoco.MjModel, name: str) -> int:
    """Body index by name, failing loudly if the XML changed."""
    idx = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
    if idx < 0:
        raise ValueError(f"body {name!r} not found in model")
    return int(idx)
