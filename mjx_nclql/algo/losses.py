"""NC-LQL's two critic losses, as pure functions of parameters and a batch.

Each returns the SUM over critics of that critic's mean squared error: a critic's parameters
only enter its own term, so the sum trains the twins independently in one backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

ApplyFn = Callable[[Any, jax.Array, jax.Array, jax.Array], jax.Array]


def td_targets(
    q_next_min: jax.Array,
    reward: jax.Array,
    terminated: jax.Array,
    *,
    gamma: float,
    reward_scale: float,
) -> jax.Array:
    """y = reward_scale * r + gamma * (1 - terminated) * min_i Qtarget_i(s', a').

    Only a termination stops the bootstrap; a time-limit truncation keeps it (its transition
    carries the true final observation as s').
    """
    return reward_scale * reward + gamma * (1.0 - terminated) * q_next_min


def td_loss(
    params: Any,
    apply_fn: ApplyFn,
    obs: jax.Array,
    action: jax.Array,
    targets: jax.Array,
    sharpest: int,
) -> tuple[jax.Array, jax.Array]:
    """sum_i mean_b (Q_i(s, a, L-1) - y)^2; also returns Q [K, B] for metrics."""
    q = apply_fn(params, obs, action, jnp.asarray(sharpest, jnp.int32))
    return jnp.mean((q - jax.lax.stop_gradient(targets)) ** 2, axis=-1).sum(), q


def noise_conditioning_loss(
    params: Any,
    apply_fn: ApplyFn,
    obs: jax.Array,
    action: jax.Array,
    smooth_target: jax.Array,
    level: jax.Array,
    noise: jax.Array,
    sigmas: jax.Array,
) -> jax.Array:
    """sum_i mean_b (Q_i(s, a + sigma_l e, l) - qbar)^2 with per-sample random level l < L-1.

    Its minimiser is Q(s, a~, l) = E[qbar(s, a) | a~]: the clean critic smoothed by a Gaussian
    of width sigma_l (for actions spread evenly around a~), which is what makes the
    coarse levels smooth landscapes the annealed sampler can cross. The noisy action is not
    clipped, as in the reference program.
    """
    noisy = action + sigmas[level][:, None] * noise
    q = apply_fn(params, obs, noisy, level)
    return jnp.mean((q - jax.lax.stop_gradient(smooth_target)) ** 2, axis=-1).sum()
