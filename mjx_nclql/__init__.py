"""NC-LQL: actor-free soft-policy Q-learning by annealed Langevin sampling, on MuJoCo MJX.

The way in:

    cfg = mjx_nclql.compose(["env=hopper", "preset=smoke"])   # as the command line composes
    result = mjx_nclql.run(cfg)                                 # train; a RunResult
    policy = mjx_nclql.load(result.run_dir)                     # act with the trained critic

Every name is imported on first use, not with the package: `python -m mjx_nclql.<command>
--help` then answers without loading jax, and a command that checks its own MuJoCo set-up
(`render --format mp4` and $MUJOCO_GL) can say what is wrong in one line instead of failing
inside `import mjx_nclql`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that owns it
_EXPORTS = {
    "compose": "mjx_nclql.cli_config",
    "run": "mjx_nclql.train",
    "RunResult": "mjx_nclql.train",
    "load": "mjx_nclql.policy",
    "Policy": "mjx_nclql.policy",
    "Agent": "mjx_nclql.agent",
    "AgentState": "mjx_nclql.agent",
    "Batch": "mjx_nclql.agent",
    "annealed_langevin": "mjx_nclql.sampler",
    "langevin": "mjx_nclql.sampler",
    "ConfigError": "mjx_nclql.config",
    "RunConfig": "mjx_nclql.config",
    "EnvConfig": "mjx_nclql.config",
    "AlgoConfig": "mjx_nclql.config",
    "SamplerConfig": "mjx_nclql.config",
    "CriticConfig": "mjx_nclql.config",
    "TrainConfig": "mjx_nclql.config",
    "LogConfig": "mjx_nclql.config",
    "DistConfig": "mjx_nclql.config",
}

__all__ = [  # the names of _EXPORTS, listed for readers and linters
    "Agent",
    "AgentState",
    "AlgoConfig",
    "Batch",
    "ConfigError",
    "CriticConfig",
    "DistConfig",
    "EnvConfig",
    "LogConfig",
    "Policy",
    "RunConfig",
    "RunResult",
    "SamplerConfig",
    "TrainConfig",
    "annealed_langevin",
    "compose",
    "langevin",
    "load",
    "run",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from mjx_nclql.agent import Agent, AgentState, Batch
    from mjx_nclql.cli_config import compose
    from mjx_nclql.config import (
        AlgoConfig,
        ConfigError,
        CriticConfig,
        DistConfig,
        EnvConfig,
        LogConfig,
        RunConfig,
        SamplerConfig,
        TrainConfig,
    )
    from mjx_nclql.policy import Policy, load
    from mjx_nclql.sampler import annealed_langevin, langevin
    from mjx_nclql.train import RunResult, run


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mjx_nclql' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
