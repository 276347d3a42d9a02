"""NC-LQL: actor-free soft-policy Q-learning by annealed Langevin sampling, on MuJoCo MJX."""

from mjx_nclql.agent import Agent, AgentState, Batch
from mjx_nclql.config import AlgoConfig, ConfigError, CriticConfig, RunConfig, SamplerConfig
from mjx_nclql.sampler import annealed_langevin, langevin

__all__ = [
    "Agent",
    "AgentState",
    "AlgoConfig",
    "Batch",
    "ConfigError",
    "CriticConfig",
    "Policy",
    "RunConfig",
    "SamplerConfig",
    "annealed_langevin",
    "langevin",
    "load",
]


def __getattr__(name: str):
    """`load` and `Policy` import MuJoCo on first use, not with the package: a command that
    checks its own MuJoCo set-up (`render --format mp4` and $MUJOCO_GL) can then say what is
    wrong in one line instead of failing inside `import mjx_nclql`."""
    if name in ("load", "Policy"):
        from mjx_nclql import policy

        return getattr(policy, name)
    raise AttributeError(f"module 'mjx_nclql' has no attribute {name!r}")
