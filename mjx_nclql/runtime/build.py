"""From a validated config to the parts a run is made of, built one way everywhere.

Training, the benchmark, evaluation, policy loading and the tests all call `build(cfg)`, so
the environment, agent and trainer of a run directory are always the ones it trained with.
Building compiles nothing: the trainer's functions are jitted lazily on their first call.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from mjx_nclql.algo.agent import Agent
from mjx_nclql.core.config import ConfigError, RunConfig
from mjx_nclql.runtime.schedule import Schedule
from mjx_nclql.runtime.trainer import Trainer, replay_bytes

if TYPE_CHECKING:
    from envs.protocol import Env


def make_env(cfg: RunConfig) -> Env:
    """The environment `env.name` of the registry (an MJX task, or an analytic probe
    `probe_<kind>` for checks), with the run's options."""
    import envs
    from envs.registry import is_probe

    try:
        if is_probe(cfg.env.name):
            return envs.make(cfg.env.name, **cfg.env.options)
        if cfg.env.physics == "warp":
            # VecEnv and a seed vmap around it run on MuJoCo Warp (envs/README.md); the evaluation's
            # early-stopping while_loop does not yet (Warp's contact buffer is shared by all worlds).
            raise ValueError(
                "physics 'warp' steps environments (python -m envs.bench --physics warp, the device "
                "suite) but does not train yet; use faithful, gymnasium or fast"
            )
        return envs.make(cfg.env.name, physics=cfg.env.physics, **cfg.env.options)
    except TypeError as err:
        raise ConfigError(f"env.options: {err}") from err
    except ValueError as err:
        raise ConfigError(f"env: {err}") from err


@dataclasses.dataclass(frozen=True)
class Setup:
    """The environment, agent and trainer of one config."""

    config: RunConfig
    env: Env
    agent: Agent
    trainer: Trainer

    @property
    def schedule(self) -> Schedule:
        return self.trainer.schedule

    def replay_bytes(self) -> int:
        """Device memory the replay buffers of all seeds take."""
        return replay_bytes(
            self.env.observation_size,
            self.env.action_size,
            self.config.train.buffer_size,
            self.config.num_seeds,
        )


def build(cfg: RunConfig) -> Setup:
    env = make_env(cfg)
    agent = Agent(cfg.algo, env.observation_size, env.action_size)
    return Setup(config=cfg, env=env, agent=agent, trainer=Trainer(env, agent, cfg.train))
