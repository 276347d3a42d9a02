"""The twin critic is one batched computation equal to two separately applied critics."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from mjx_nclql.algo.critic import QNetwork, make_critic, polyak, sinusoidal_encoding
from mjx_nclql.core.config import CriticConfig


class TwinCriticTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_twin_equals_two_separate_critics(self) -> None:
        cfg = CriticConfig(hidden_sizes=(32, 32))
        net = make_critic(cfg, conditioned=True)
        obs = jax.random.normal(jax.random.key(1), (7, 5))
        act = jax.random.uniform(jax.random.key(2), (7, 3), minval=-1, maxval=1)
        level = jnp.arange(7) % 4
        params = net.init(jax.random.key(0), obs, act, level)["params"]
        twin = self.variant(lambda p: net.apply({"params": p}, obs, act, level))(params)
        chex.assert_shape(twin, (2, 7))
        single = QNetwork(cfg, conditioned=True)
        for i in range(2):
            p_i = jax.tree.map(lambda x, i=i: x[i], params["critics"])
            np.testing.assert_allclose(
                twin[i], single.apply({"params": p_i}, obs, act, level), rtol=1e-5, atol=1e-6
            )
        # Independent initialisation: the two critics differ.
        assert not np.allclose(twin[0], twin[1])

    def test_level_changes_output_only_when_conditioned(self) -> None:
        obs, act = jnp.ones((4, 3)), jnp.zeros((4, 2))
        for conditioned in (True, False):
            net = make_critic(CriticConfig(hidden_sizes=(16,)), conditioned=conditioned)
            p = net.init(jax.random.key(0), obs, act, jnp.zeros((), jnp.int32))
            q0 = net.apply(p, obs, act, jnp.asarray(0))
            q5 = net.apply(p, obs, act, jnp.asarray(5))
            assert np.allclose(q0, q5) != conditioned


def test_sinusoidal_encoding_distinguishes_levels() -> None:
    enc = np.asarray(sinusoidal_encoding(jnp.arange(10), 16))
    assert enc.shape == (10, 16)
    dists = np.linalg.norm(enc[:, None] - enc[None], axis=-1) + np.eye(10)
    assert dists.min() > 0.02


def test_level_encoding_is_the_reference_formula() -> None:
    """sin/cos of l * 10000^(-j/8), j = 0..7, the vector scaled by 1/sqrt(16)."""
    levels = np.arange(10)
    j = np.arange(8)
    angles = levels[:, None] * 10_000.0 ** (-j / 8)
    expected = np.concatenate([np.sin(angles), np.cos(angles)], axis=-1) / 4.0
    np.testing.assert_allclose(sinusoidal_encoding(jnp.arange(10), 16), expected, atol=2e-6)
    # Level 0: zeros then 1/sqrt(dim); each vector has norm sqrt(8)/4 (sin^2 + cos^2 = 1).
    np.testing.assert_allclose(np.linalg.norm(expected, axis=-1), np.sqrt(8) / 4, rtol=1e-6)


def test_init_is_truncated_normal_not_rescaled_with_zero_biases() -> None:
    """Weights ~ N(0, 1/fan_in) cut at 2 stddev, not rescaled: realised std ~0.8796/sqrt(fan_in),
    no |w| beyond 2/sqrt(fan_in); all biases zero (the reference framework's defaults)."""
    net = make_critic(CriticConfig(), conditioned=True)
    obs, act = jnp.zeros((1, 17)), jnp.zeros((1, 6))
    params = net.init(jax.random.key(0), obs, act, jnp.zeros((), jnp.int32))["params"]["critics"]
    fan_in = {
        "hidden_0": 17 + 6 + 16,
        "hidden_1": 256,
        "hidden_2": 256,
        "level_in": 16,
        "level_out": 32,
        "out": 256,
    }
    for name, n in fan_in.items():
        w = np.asarray(params[name]["kernel"], np.float64)
        assert w.shape[1] == n, name
        assert np.abs(w).max() <= 2.0 / np.sqrt(n) + 1e-7, name
        np.testing.assert_array_equal(params[name]["bias"], 0.0)
    # 2 x 256 x 256 draws: the realised std is 0.8796/16 to well within 1%.
    w = np.asarray(params["hidden_1"]["kernel"], np.float64)
    assert abs(w.std() * 16 - 0.87963) < 0.006, w.std() * 16
    assert np.abs(w).max() * 16 > 1.99  # cut at 2, not below


def test_polyak_moves_target_by_tau() -> None:
    t = {"a": jnp.zeros(3)}
    o = {"a": jnp.ones(3)}
    np.testing.assert_allclose(polyak(t, o, 0.005)["a"], 0.005)
    np.testing.assert_allclose(polyak(t, o, 1.0)["a"], 1.0)
