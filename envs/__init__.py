"""MJX ports of Gymnasium's MuJoCo -v4 locomotion tasks, functional and batchable."""

import envs._quiet  # noqa: F401  (must run before anything imports mujoco.mjx)
from envs.base import MjxEnv
from envs.registry import make, names
from envs.state import State
from envs.vector import VecEnv, VecState

__all__ = ["MjxEnv", "State", "VecEnv", "VecState", "make", "names"]
