"""The twin critic is one batched computation equal to two separately applied critics."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from mjx_nclql.config import CriticConfig
from mjx_nclql.critic import QNetwork, make_critic, polyak, sinusoidal_encoding


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
        single = QNetwork(hidden_sizes=(32, 32), conditioned=True)
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
    np.testing.assert_allclose(enc[0], [0.0] * 8 + [1.0] * 8, atol=1e-7)
    dists = np.linalg.norm(enc[:, None] - enc[None], axis=-1) + np.eye(10)
    assert dists.min() > 0.1


def test_polyak_moves_target_by_tau() -> None:
    t = {"a": jnp.zeros(3)}
    o = {"a": jnp.ones(3)}
    np.testing.assert_allclose(polyak(t, o, 0.005)["a"], 0.005)
    np.testing.assert_allclose(polyak(t, o, 1.0)["a"], 1.0)
