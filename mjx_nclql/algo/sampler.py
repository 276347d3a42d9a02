"""Langevin samplers of the soft policy pi(a|s) ~ exp(w Q(s, a)) on the box [-1, 1]^d.

The critic is any (twin) critic `q(obs, actions, level) -> [num_critics, batch]`, or a
`ChainQ` that does the observation-only work once per chain. The chain climbs the gradient of
the SUM over critics, best-of-N selection uses their MIN. Both samplers are pure functions of
their inputs, so they jit, vmap (over seeds) and differentiate like any JAX code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp

from mjx_nclql.algo.noise import noise_levels, step_sizes

if TYPE_CHECKING:
    from mjx_nclql.core.config import SamplerConfig

QFn = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


@runtime_checkable
class ChainQ(Protocol):
    """A critic as a chain sees it: `prepare(obs)` once, then `q(context, actions, level)`."""

    def prepare(self, obs: jax.Array) -> Any: ...

    def __call__(self, context: Any, action: jax.Array, level: jax.Array) -> jax.Array: ...


@dataclasses.dataclass(frozen=True)
class _Unfactored:
    """A plain `q(obs, actions, level)` as a ChainQ whose context is the observations."""

    q_fn: QFn

    def prepare(self, obs: jax.Array) -> jax.Array:
        return obs

    def __call__(self, obs: jax.Array, action: jax.Array, level: jax.Array) -> jax.Array:
        return self.q_fn(obs, action, level)


def _as_chain_q(q: QFn | ChainQ) -> ChainQ:
    return q if isinstance(q, ChainQ) else _Unfactored(q)


def _chain(
    q_fn: ChainQ,
    context: Any,
    x: jax.Array,
    key: jax.Array,
    levels: jax.Array,
    alphas: jax.Array,
    cfg: SamplerConfig,
) -> jax.Array:
    """Run `steps_per_level` Langevin steps at each (level, alpha) in turn, from `x`."""

    def q_sum(a: jax.Array, level: jax.Array) -> jax.Array:
        return q_fn(context, a, level).sum()

    grad_q = jax.grad(q_sum)

    def step(x: jax.Array, inputs: tuple[jax.Array, jax.Array, jax.Array]) -> tuple:
        level, alpha, k = inputs
        g = grad_q(x, level)
        if cfg.grad_norm:
            g = g / (jnp.linalg.norm(g, axis=-1, keepdims=True) + 1e-8)
        z = jax.random.normal(k, x.shape, x.dtype)
        x = x + 0.5 * alpha * cfg.w * g + jnp.sqrt(alpha) * z
        if cfg.clip:
            x = jnp.clip(x, -1.0, 1.0)
        return x, None

    t = cfg.steps_per_level
    per_step_levels = jnp.repeat(levels, t)
    per_step_alphas = jnp.repeat(alphas, t).astype(x.dtype)
    keys = jax.random.split(key, per_step_levels.shape[0])
    # Unrolling trades compile time for fewer loop iterations (each one a device round trip
    # on a GPU): the steps are the same, the numbers equal up to float rounding.
    unroll = min(cfg.unroll, per_step_levels.shape[0])
    x, _ = jax.lax.scan(step, x, (per_step_levels, per_step_alphas, keys), unroll=unroll)
    return x


def _sample(
    q: QFn | ChainQ,
    obs: jax.Array,
    key: jax.Array,
    cfg: SamplerConfig,
    action_dim: int,
    annealed: bool,
) -> jax.Array:
    q_fn = _as_chain_q(q)
    batch = obs.shape[0]
    n = cfg.num_particles
    sharpest = cfg.num_levels - 1
    if n > 1:
        obs = jnp.repeat(obs, n, axis=0)
    init_key, chain_key = jax.random.split(key)
    x0 = jax.random.uniform(init_key, (obs.shape[0], action_dim), minval=-1.0, maxval=1.0)
    if annealed:
        levels = jnp.arange(cfg.num_levels, dtype=jnp.int32)
        alphas = step_sizes(noise_levels(cfg.sigma_max, cfg.sigma_min, cfg.num_levels), cfg.eps)
    else:
        # Same number of gradient evaluations, all at the sharpest level with step size eps.
        levels = jnp.full((cfg.num_levels,), sharpest, dtype=jnp.int32)
        alphas = jnp.full((cfg.num_levels,), cfg.eps, dtype=jnp.float32)
    context = q_fn.prepare(obs)
    x = _chain(q_fn, context, x0, chain_key, levels, alphas, cfg)
    if n > 1:
        q_min = q_fn(context, x, jnp.asarray(sharpest, jnp.int32)).min(axis=0)
        best = jnp.argmax(q_min.reshape(batch, n), axis=1)
        x = x.reshape(batch, n, action_dim)[jnp.arange(batch), best]
    return x


def annealed_langevin(
    q_fn: QFn | ChainQ, obs: jax.Array, key: jax.Array, cfg: SamplerConfig, action_dim: int
) -> jax.Array:
    """NC-LQL's sampler: T steps at each level from the smoothest (0) to the sharpest (L-1).

    Args:
      q_fn: noise-conditioned critic, `(obs [B, o], actions [B, d], level []) -> [K, B]`,
        or a `ChainQ`.
      obs: observations, [B, o].
      key: PRNG key.
      cfg: sampler settings (w, L, T, sigmas, eps, grad_norm, clip, num_particles).
      action_dim: d.
    Returns:
      actions in [-1, 1]^d (when `cfg.clip`), [B, d].
    """
    return _sample(q_fn, obs, key, cfg, action_dim, annealed=True)


def langevin(
    q_fn: QFn | ChainQ, obs: jax.Array, key: jax.Array, cfg: SamplerConfig, action_dim: int
) -> jax.Array:
    """Plain (single-level) Langevin: L*T steps of size eps on the sharpest level only.

    This is LQL's sampler (with L = 1 it runs T steps on an unconditioned critic) and the
    baseline the annealed sampler is compared with at equal cost.
    """
    return _sample(q_fn, obs, key, cfg, action_dim, annealed=False)
