"""Name -> environment lookup behind `envs.make` and `envs.names`, and what each can do.

Two kinds of environment are registered: the six MuJoCo tasks (`names()`) and the analytic
probes (`probe_names()`, `envs/probes.py`: no MuJoCo model, no Gymnasium counterpart). A
command that needs a model to draw or a Gymnasium task to compare with asks `capabilities`
instead of reading the name.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from envs.base import COMMON_OPTIONS, MjxEnv
from envs.probes import PROBE_KINDS, ProbeEnv
from envs.protocol import Env
from envs.tasks.ant import Ant
from envs.tasks.halfcheetah import HalfCheetah
from envs.tasks.hopper import Hopper
from envs.tasks.humanoid import Humanoid
from envs.tasks.swimmer import Swimmer
from envs.tasks.walker2d import Walker2d

_TASKS: dict[str, type[MjxEnv]] = {
    cls.name: cls for cls in (Ant, HalfCheetah, Hopper, Humanoid, Walker2d, Swimmer)
}
_ALIASES: dict[str, str] = {cls.gym_id.lower(): name for name, cls in _TASKS.items()}
_ALIASES.update({"half_cheetah": "halfcheetah", "walker": "walker2d"})
PROBE_PREFIX = "probe_"  # a probe of kind K is registered as probe_K


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What an environment offers beyond reset and step."""

    mujoco_model: bool  # bodies to draw (render, log.render) and a configs/env/ entry
    gymnasium: bool  # a Gymnasium counterpart to evaluate against (`gymnasium_spec`)


def names() -> list[str]:
    """The short task names `make` accepts (Gymnasium ids are accepted too)."""
    return list(_TASKS)


def probe_names() -> list[str]:
    """The analytic probe environments `make` accepts."""
    return [PROBE_PREFIX + kind for kind in PROBE_KINDS]


def is_probe(name: str) -> bool:
    return str(name).startswith(PROBE_PREFIX)


def capabilities(name: str) -> Capabilities:
    """What environment `name` offers; a ValueError for an unknown task name."""
    if is_probe(name):
        return Capabilities(mujoco_model=False, gymnasium=False)
    resolve(name)
    return Capabilities(mujoco_model=True, gymnasium=True)


def resolve(name: str) -> str:
    """Map a short name or Gymnasium id (any case) to the short name."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _TASKS:
        valid = names() + [cls.gym_id for cls in _TASKS.values()]
        raise ValueError(f"unknown env {name!r}; valid names: {', '.join(valid)}")
    return key


def make(name: str, **options: Any) -> Env:
    """Build a task, e.g. `make("Ant-v4", episode_length=1000, solver_iterations=4)`, or a
    probe, e.g. `make("probe_bandit", action_size=2)`.

    Common options: episode_length (1000), solver_iterations / ls_iterations (None =
    the XML's values, i.e. parity with Gymnasium). Any Gymnasium v4 constructor
    argument of the task (e.g. ctrl_cost_weight) is accepted too; anything else is
    a ValueError naming the valid options.
    """
    if is_probe(name):
        return ProbeEnv(str(name).removeprefix(PROBE_PREFIX), **options)
    return _TASKS[resolve(name)](**options)


def gymnasium_spec(name: str, **options: Any) -> tuple[str, dict[str, Any], list[str]]:
    """How to build Gymnasium's own counterpart of `make(name, **options)`: (Gymnasium id,
    `gymnasium.make` kwargs, options it has no counterpart for). The Gymnasium v4 constructor
    arguments pass through, `episode_length` becomes the time limit, and the MJX physics
    options are returned separately (Gymnasium's task is built without them)."""
    if not capabilities(name).gymnasium:
        raise ValueError(f"env {name!r} has no Gymnasium counterpart")
    task = _TASKS[resolve(name)](**options)
    kwargs = {k: v for k, v in options.items() if k not in COMMON_OPTIONS}
    kwargs["max_episode_steps"] = task.episode_length
    physics = sorted(k for k in options if k in COMMON_OPTIONS and k != "episode_length")
    return task.gym_id, kwargs, physics
