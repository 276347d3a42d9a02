"""Noise schedule of the noise-conditioned critic."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def noise_levels(sigma_max: float, sigma_min: float, num_levels: int) -> jnp.ndarray:
    """Geometric levels from `sigma_max` (level 0, smoothest) to `sigma_min` (level L-1).

    Geometric spacing gives every level the same relative smoothing step, as in annealed
    sampling of noise-conditioned score models.
    """
    if num_levels == 1:
        return jnp.asarray([sigma_min], dtype=jnp.float32)
    return jnp.asarray(
        np.exp(np.linspace(np.log(sigma_max), np.log(sigma_min), num_levels)), dtype=jnp.float32
    )


def step_sizes(sigmas: jnp.ndarray, eps: float) -> jnp.ndarray:
    """Langevin step size per level: eps * (sigma_l / sigma_{L-1})^2 (eps at the sharpest)."""
    return eps * (sigmas / sigmas[-1]) ** 2
