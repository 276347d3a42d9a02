"""What the trainer, the rollouts and the commands need of an environment.

The MJX tasks (`envs.base.MjxEnv`) and the analytic probes (`envs.probes.ProbeEnv`) both
satisfy it; nothing checks it at run time (it is a `typing.Protocol`), it names what an
environment passed around as a value must offer.
"""

from __future__ import annotations

from typing import Protocol

import jax

from envs.state import State


class Env(Protocol):
    """A functional environment: `reset` and `step` are pure and jittable."""

    name: str
    episode_length: int  # steps until truncation

    @property
    def observation_size(self) -> int: ...

    @property
    def action_size(self) -> int: ...

    def reset(self, key: jax.Array) -> State: ...

    def step(self, state: State, action: jax.Array) -> State: ...
