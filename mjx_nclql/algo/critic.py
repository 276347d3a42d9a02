"""Noise-conditioned twin critic Q_i(s, a, l) and its Polyak-averaged target.

The critics are one flax module vmapped over a leading ensemble axis of the parameters, so
the twin evaluation (and every Langevin gradient through it) is one batched computation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp

if TYPE_CHECKING:
    from mjx_nclql.core.config import CriticConfig

# Above this mish(x) == x in float32: tanh(softplus(20)) = 1 - 8.5e-18. Clamping the
# exponential here keeps e^(2x) finite without changing any value.
_MISH_LINEAR_FROM = 20.0


@jax.custom_jvp
def mish(x: jax.Array) -> jax.Array:
    """x * tanh(softplus(x)) with one exponential instead of three transcendentals.

    With e = exp(x): tanh(log(1 + e)) = n / (n + 2) where n = e (e + 2), exactly. The
    derivative reuses e: n / (n + 2) + 4 x e (e + 1) / (n + 2)^2 (its second term is below
    float32 resolution beyond the clamp, where it is dropped).
    """
    e = jnp.exp(jnp.minimum(x, _MISH_LINEAR_FROM))
    n = e * (e + 2.0)
    return x * (n / (n + 2.0))


@mish.defjvp
def _mish_jvp(primals: tuple[jax.Array], tangents: tuple[jax.Array]) -> tuple[jax.Array, jax.Array]:
    (x,), (dx,) = primals, tangents
    e = jnp.exp(jnp.minimum(x, _MISH_LINEAR_FROM))
    n = e * (e + 2.0)
    r = 1.0 / (n + 2.0)
    tanh_softplus = n * r
    curvature = jnp.where(x > _MISH_LINEAR_FROM, 0.0, 4.0 * e * (e + 1.0) * r * r * x)
    return x * tanh_softplus, (tanh_softplus + curvature) * dx


_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "mish": mish,
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
kernel_init = nn.initializers.variance_scaling(_truncated_normal_std() ** 2, "fan_in", "truncated_normal")


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


@flax.struct.dataclass
class ChainContext:
    """What a Langevin chain computes once: the observations' share of the first layer
    (with its bias), [K, B, H], and each level's share, [K, L, H] ([K, 0, H] unconditioned)."""

    obs_part: jax.Array
    level_part: jax.Array


@dataclasses.dataclass(frozen=True)
class ChainCritic:
    """The ensemble critic factored for a Langevin chain over actions.

    Within a chain the observations never change and a level's embedding depends on the level
    only, so the first layer W [s; a; e(l)] + b is split into W_s s + b (once per chain),
    W_e e(l) (once per level) and W_a a (per step), and the chain's gradient flows through
    W_a alone. The values equal `EnsembleQ.apply` up to float rounding (summation order).
    """

    params: Any
    cfg: CriticConfig
    conditioned: bool
    obs_dim: int
    num_levels: int

    @property
    def _layers(self) -> Any:
        return self.params["critics"]

    def _split(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The first layer's kernel [K, s + a + e, H] split into its obs, action, level rows."""
        kernel = self._layers["hidden_0"]["kernel"]
        emb_dim = self.cfg.level_embed_dim if self.conditioned else 0
        action_end = kernel.shape[1] - emb_dim
        return kernel[:, : self.obs_dim], kernel[:, self.obs_dim : action_end], kernel[:, action_end:]

    def prepare(self, obs: jax.Array) -> ChainContext:
        layers, act = self._layers, _ACTIVATIONS[self.cfg.activation]
        w_obs, _, w_level = self._split()
        obs_part = jnp.einsum("bi,kih->kbh", obs, w_obs) + layers["hidden_0"]["bias"][:, None]
        if not self.conditioned:
            return ChainContext(obs_part, jnp.zeros(w_level.shape[:1] + (0,) + w_level.shape[2:]))
        enc = sinusoidal_encoding(jnp.arange(self.num_levels), self.cfg.level_embed_dim)

        def linear(x: jax.Array, name: str) -> jax.Array:
            return jnp.einsum("kli,kio->klo", x, layers[name]["kernel"]) + layers[name]["bias"][:, None]

        enc = jnp.broadcast_to(enc, (w_obs.shape[0],) + enc.shape)
        emb = linear(act(linear(enc, "level_in")), "level_out")
        return ChainContext(obs_part, jnp.einsum("kle,keh->klh", emb, w_level))

    def __call__(self, ctx: ChainContext, action: jax.Array, level: jax.Array) -> jax.Array:
        """Q values of every critic at `action` [B, d] and integer `level` []: [K, B]."""
        layers, act = self._layers, _ACTIVATIONS[self.cfg.activation]
        _, w_action, _ = self._split()
        # One batched matmul per critic (as the vmapped module does): a single matmul over
        # both critics would need a gradient contracting two axes, which XLA's CPU runs slowly.
        action = jnp.broadcast_to(action, w_action.shape[:1] + action.shape)
        pre = ctx.obs_part + jnp.einsum("kbd,kdh->kbh", action, w_action)
        if self.conditioned:
            pre = pre + jnp.take(ctx.level_part, level, axis=1)[:, None]
        x = act(pre)
        for i in range(1, len(self.cfg.hidden_sizes)):
            layer = layers[f"hidden_{i}"]
            x = act(jnp.einsum("kbi,kio->kbo", x, layer["kernel"]) + layer["bias"][:, None])
        out = layers["out"]
        return (jnp.einsum("kbi,kio->kbo", x, out["kernel"]) + out["bias"][:, None])[..., 0]
