"""The unit of experience: transitions as the replay buffer stores and the update reads them."""

from __future__ import annotations

import flax.struct
import jax


@flax.struct.dataclass
class Batch:
    """Transitions s, a, r, s', terminated (a truncation is NOT a termination)."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    terminated: jax.Array
