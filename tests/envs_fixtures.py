"""Shared helpers for the env tests: float64 compiled tasks and Gymnasium references.

MJX compiles take 5-30 s per function on a small CPU, so each task's batched
functions are compiled once per test session and cached here. float64 is scoped
with `jax.enable_x64(True)` context managers so it never leaks into other modules.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jax
import mujoco
import numpy as np

import envs
from envs.base import MjxEnv

TASKS = ("halfcheetah", "hopper", "walker2d", "swimmer", "ant", "humanoid")
HINGE_TASKS = ("halfcheetah", "hopper", "walker2d", "swimmer")
BATCH = 24  # states per parity batch: one compile per task, enough diversity
HORIZON = 50  # env steps per parity rollout


@contextlib.contextmanager
def x64() -> Iterator[None]:
    """float64 for the enclosed block only.

    JAX's caches are cleared on the way in and out: jax 0.10 reuses a traced inner `jit`
    (MJX's `jnp.tril` of a float64 numpy constant in RK4) across the x64 switch, so a later
    float32 compile of the same task fails to lower ("operand type mismatch").
    """
    jax.clear_caches()
    try:
        with jax.enable_x64(True):
            yield
    finally:
        jax.clear_caches()


@dataclass
class CompiledTask:
    """A float64 task with its batched functions, each compiled once per session."""

    env: MjxEnv
    rollout: Any  # (qpos[B], qvel[B], keys[B], actions[B, T, d]) -> (reset obs, per-step out)
    noise: Any  # jit(vmap(env._reset_noise))


def _rollout_fn(env: MjxEnv) -> Any:
    """One compile covers the set_state-like start and `T` steps (scan), vmapped."""

    def one(qpos: jax.Array, qvel: jax.Array, key: jax.Array, actions: jax.Array) -> Any:
        start = env.state_from(qpos, qvel, key)

        def body(state: Any, action: jax.Array) -> Any:
            state = env.step(state, action)
            return state, (state.obs, state.reward, state.terminated, state.metrics)

        _, out = jax.lax.scan(body, start, actions)
        return start.obs, out

    return jax.jit(jax.vmap(one))


_CACHE: dict[str, CompiledTask] = {}


def compiled_task(name: str) -> CompiledTask:
    """Build (once per session) the float64 task; call inside `x64()`."""
    if not jax.config.jax_enable_x64:
        raise RuntimeError("compiled_task must be called inside x64()")
    if name not in _CACHE:
        env = envs.make(name)
        _CACHE[name] = CompiledTask(
            env=env,
            rollout=_rollout_fn(env),
            noise=jax.jit(jax.vmap(env._reset_noise)),
        )
    return _CACHE[name]


def gym_env(name: str, newton: bool = False) -> Any:
    """The unwrapped Gymnasium -v4 env (MuJoCo C); optionally with MJX's solver change."""
    import gymnasium as gym

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = gym.make(envs.make(name).gym_id).unwrapped
    g.reset(seed=0)
    if newton:
        g.model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    return g


def gym_set_state(g: Any, qpos: np.ndarray, qvel: np.ndarray) -> None:
    """Gymnasium's set_state from a just-reset data (ctrl and cfrc_ext zeroed)."""
    mujoco.mj_resetData(g.model, g.data)
    g.set_state(qpos, qvel)


def diverse_states(name: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` (qpos, qvel) pairs visited by Gymnasium under random actions (0-29 steps in)."""
    g = gym_env(name)
    rng = np.random.default_rng(seed)
    qpos, qvel = [], []
    ctrl_lo, ctrl_hi = g.model.actuator_ctrlrange.T
    while len(qpos) < n:
        g.reset(seed=int(rng.integers(1 << 30)))
        alive = True
        for _ in range(int(rng.integers(0, 30))):
            _, _, term, _, _ = g.step(rng.uniform(ctrl_lo, ctrl_hi))
            if term:
                alive = False
                break
        if alive:
            qpos.append(g.data.qpos.copy())
            qvel.append(g.data.qvel.copy())
    return np.stack(qpos), np.stack(qvel)
