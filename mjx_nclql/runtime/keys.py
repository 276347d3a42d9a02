"""Every random stream of a run, derived in one place.

Seed `s` of a run with `seed=k, num_seeds=n` trains from `PRNGKey(k + s)`, so seed `s` of a
multi-seed run equals a one-seed run with `seed=k + s`. Periodic evaluations draw from a
separate stream that training never touches: evaluation after chunk `c` uses
`fold_in(PRNGKey(EVAL_OFFSET + k + s), c)`, so adding or moving evaluations does not change
training, and a resumed run evaluates with the same keys as an uninterrupted one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

# A prime far above any seed in use: an evaluation stream never coincides with a training one.
EVAL_OFFSET = 10_000_019


def seed_keys(seed: int, num_seeds: int) -> jax.Array:
    """One independent training key per seed, shape [num_seeds, 2]."""
    return jnp.stack([jax.random.PRNGKey(seed + i) for i in range(num_seeds)])


def eval_keys(seed: int, num_seeds: int, chunk: int) -> jax.Array:
    """The keys of the evaluation after `chunk` chunks, one per seed."""
    base = seed_keys(EVAL_OFFSET + seed, num_seeds)
    return jax.vmap(jax.random.fold_in, in_axes=(0, None))(base, chunk)
