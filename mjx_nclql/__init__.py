"""NC-LQL: actor-free soft-policy Q-learning by annealed Langevin sampling, on MuJoCo MJX.

The way in:

    cfg = mjx_nclql.compose(["env=hopper", "preset=smoke"])   # as the command line composes
    setup = mjx_nclql.build(cfg)                                # env, agent, trainer (no compile)
    result = mjx_nclql.run(cfg)                                 # train; a RunResult
    policy = mjx_nclql.load(result.run_dir)                     # act with the trained critic

The package is layered, each layer importing only from those before it: `core` (config,
errors, files), `algo` (the method), `runtime` (training and reading runs back), `tools` (the
commands around it); the `python -m mjx_nclql.<command>` entry modules sit beside this file.
Every error raised on purpose derives from `MjxNclqlError`.

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
    "compose": "mjx_nclql.core.cli_config",
    "build": "mjx_nclql.runtime.build",
    "Setup": "mjx_nclql.runtime.build",
    "run": "mjx_nclql.runtime.loop",
    "RunResult": "mjx_nclql.runtime.loop",
    "load": "mjx_nclql.runtime.policy",
    "Policy": "mjx_nclql.runtime.policy",
    "Agent": "mjx_nclql.algo.agent",
    "AgentState": "mjx_nclql.algo.agent",
    "Batch": "mjx_nclql.algo.batch",
    "annealed_langevin": "mjx_nclql.algo.sampler",
    "langevin": "mjx_nclql.algo.sampler",
    "MjxNclqlError": "mjx_nclql.core.errors",
    "ConfigError": "mjx_nclql.core.config",
    "RunConfig": "mjx_nclql.core.config",
    "EnvConfig": "mjx_nclql.core.config",
    "AlgoConfig": "mjx_nclql.core.config",
    "SamplerConfig": "mjx_nclql.core.config",
    "CriticConfig": "mjx_nclql.core.config",
    "TrainConfig": "mjx_nclql.core.config",
    "LogConfig": "mjx_nclql.core.config",
    "DistConfig": "mjx_nclql.core.config",
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
    "MjxNclqlError",
    "Policy",
    "RunConfig",
    "RunResult",
    "SamplerConfig",
    "Setup",
    "TrainConfig",
    "annealed_langevin",
    "build",
    "compose",
    "langevin",
    "load",
    "run",
]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from mjx_nclql.algo.agent import Agent, AgentState
    from mjx_nclql.algo.batch import Batch
    from mjx_nclql.algo.sampler import annealed_langevin, langevin
    from mjx_nclql.core.cli_config import compose
    from mjx_nclql.core.config import (
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
    from mjx_nclql.core.errors import MjxNclqlError
    from mjx_nclql.runtime.build import Setup, build
    from mjx_nclql.runtime.loop import RunResult, run
    from mjx_nclql.runtime.policy import Policy, load


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mjx_nclql' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
