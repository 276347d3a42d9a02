"""NC-LQL: actor-free soft-policy Q-learning by annealed Langevin sampling, on MuJoCo MJX."""

from mjx_nclql.agent import Agent, AgentState, Batch
from mjx_nclql.config import AlgoConfig, ConfigError, CriticConfig, RunConfig, SamplerConfig
from mjx_nclql.policy import Policy, load
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
