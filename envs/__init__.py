"""MJX ports of Gymnasium's MuJoCo -v4 locomotion tasks, functional and batchable, and the
analytic probe tasks the trainer is checked on."""

from typing import Any

import envs._quiet  # noqa: F401  (must run before anything imports mujoco.mjx)
from envs.base import MjxEnv
from envs.protocol import Env
from envs.registry import make, names
from envs.state import State
from envs.vector import VecEnv, VecState

__all__ = ["BraxEnv", "Env", "MjxEnv", "State", "VecEnv", "VecState", "make", "names", "to_brax"]


def __getattr__(name: str) -> Any:
    """`BraxEnv`/`to_brax` load on first use: importing brax costs seconds most users never need."""
    if name in ("BraxEnv", "to_brax"):
        from envs import brax_adapter

        return getattr(brax_adapter, name)
    raise AttributeError(f"module 'envs' has no attribute {name!r}")
