"""The per-environment state carried through `reset`/`step`.

A pytree (flax struct) so it can live in `jit`, `vmap` and `lax.scan` carries.
"""

from __future__ import annotations

from typing import Any

import jax
from flax import struct
from mujoco import mjx


@struct.dataclass
class State:
    """One environment's state after `reset` or `step`.

    Attributes:
      data: the MJX physics state.
      obs: observation, shape `(observation_size,)`.
      reward: scalar reward of the transition that produced this state (0 after reset).
      terminated: float32 0/1, 1 iff the task's unhealthy rule fired (or physics went
        non-finite, see `info["nonfinite"]`).
      truncated: float32 0/1, 1 iff the step counter reached `episode_length` and the
        state is not terminated.
      metrics: the per-term reward quantities Gymnasium reports in `info`.
      info: `steps` (int32 step counter), `rng` (key for the next reset),
        `nonfinite` (float32 0/1, physics produced NaN/inf; obs/reward were zeroed),
        `bad_action` (float32 0/1, the action had non-finite entries that were zeroed).
    """

    data: mjx.Data
    obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    metrics: dict[str, jax.Array]
    info: dict[str, Any]
