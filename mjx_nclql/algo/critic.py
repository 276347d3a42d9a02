"""Noise-conditioned twin critic Q_i(s, a, l) and its Polyak-averaged target.

The critics are one flax module vmapped over a leading ensemble axis of the parameters, so
the twin evaluation (and every Langevin gradient through it) is one batched computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import flax.linen as nn
import jax
import jax.numpy as jnp

if TYPE_CHECKING:
    from mjx_nclql.core.config import CriticConfig

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "mish": lambda x: x * jnp.tanh(jax.nn.softplus(x)),
    "relu": jax.nn.relu,
    "elu": jax.nn.elu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "tanh": jnp.tanh,
}


def sinusoidal_encoding(level: jax.Array, dim: int) -> jax.Array:
    """Sin/cos features of an integer level index, shape [..., dim], as the reference builds
    them: frequencies 10000^(-j/half) for j = 0..half-1, the vector scaled by 1/sqrt(dim)."""
    half = dim // 2
    freqs = jnp.exp(-jnp.log(10_000.0) * jnp.arange(half, dtype=jnp.float32) / half)
    angles = jnp.asarray(level, jnp.float32)[..., None] * freqs
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1) / math.sqrt(dim)


def _truncated_normal_std(bound: float = 2.0) -> float:
    """Standard deviation of a unit normal truncated to [-bound, bound]."""
    mass = math.erf(bound / math.sqrt(2.0))
    density = math.exp(-0.5 * bound**2) / math.sqrt(2.0 * math.pi)
    return math.sqrt(1.0 - 2.0 * bound * density / mass)


# The reference's linear layers: N(0, 1/fan_in) truncated at 2 stddev and NOT rescaled after
# the cut. flax's variance_scaling rescales for the cut, so its scale is set to the truncated
# variance (~0.774): the draws are then exactly truncated_normal(-2, 2) / sqrt(fan_in).
kernel_init = nn.initializers.variance_scaling(
    _truncated_normal_std() ** 2, "fan_in", "truncated_normal"
)


def dense(features: int, name: str) -> nn.Dense:
    """A linear layer with the reference's initialisation (weights above, zero biases)."""
    return nn.Dense(features, kernel_init=kernel_init, bias_init=nn.initializers.zeros, name=name)


class QNetwork(nn.Module):
    """One critic: MLP on [obs, action, level embedding] -> scalar, shaped by `cfg`.

    `conditioned=False` drops the level input altogether (plain LQL critic).
    """

    cfg: CriticConfig
    conditioned: bool = True

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array, level: jax.Array) -> jax.Array:
        cfg = self.cfg
        act = _ACTIVATIONS[cfg.activation]
        parts = [obs, action]
        if self.conditioned:
            level = jnp.broadcast_to(level, action.shape[:-1])
            emb = sinusoidal_encoding(level, cfg.level_embed_dim)
            emb = dense(cfg.level_hidden_dim, "level_in")(emb)
            emb = dense(cfg.level_embed_dim, "level_out")(act(emb))
            parts.append(emb)
        x = jnp.concatenate(parts, axis=-1)
        for i, h in enumerate(cfg.hidden_sizes):
            x = act(dense(h, f"hidden_{i}")(x))
        return dense(1, "out")(x)[..., 0]


class EnsembleQ(nn.Module):
    """`cfg.num_critics` independent QNetworks as one vmapped module: output [num_critics, ...]."""

    cfg: CriticConfig
    conditioned: bool = True

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array, level: jax.Array) -> jax.Array:
        ensemble = nn.vmap(
            QNetwork,
            variable_axes={"params": 0},
            split_rngs={"params": True},
            in_axes=None,
            out_axes=0,
            axis_size=self.cfg.num_critics,
        )
        return ensemble(self.cfg, self.conditioned, name="critics")(obs, action, level)


def make_critic(cfg: CriticConfig, conditioned: bool) -> EnsembleQ:
    return EnsembleQ(cfg, conditioned)


def polyak(target: object, online: object, tau: float) -> object:
    """target <- (1 - tau) * target + tau * online, leaf by leaf."""
    return jax.tree.map(lambda t, o: (1.0 - tau) * t + tau * o, target, online)
