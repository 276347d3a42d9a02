"""The update step: contracts under jit and without, for NC-LQL and LQL."""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np

from mjx_nclql.algo.agent import Agent, Batch
from mjx_nclql.core.config import AlgoConfig, CriticConfig, SamplerConfig

SMALL = dict(critic=CriticConfig(hidden_sizes=(16, 16)))


def _batch(obs_dim: int = 3, act_dim: int = 2, n: int = 8) -> Batch:
    k = jax.random.split(jax.random.PRNGKey(5), 3)
    return Batch(
        obs=jax.random.normal(k[0], (n, obs_dim)),
        action=jax.random.uniform(k[1], (n, act_dim), minval=-1, maxval=1),
        reward=jax.random.normal(k[2], (n,)),
        next_obs=jax.random.normal(k[0], (n, obs_dim)),
        terminated=jnp.zeros((n,)),
    )


class UpdateTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_nclql_update_contract(self) -> None:
        agent = Agent(AlgoConfig(sampler=SamplerConfig(num_levels=3, steps_per_level=1), **SMALL), 3, 2)
        state = agent.init(jax.random.PRNGKey(0))
        update = self.variant(agent.update)
        new, metrics = update(state, _batch(), jax.random.PRNGKey(1))
        again, _ = update(state, _batch(), jax.random.PRNGKey(1))
        chex.assert_trees_all_equal(new.params, again.params)  # deterministic for a key
        chex.assert_trees_all_equal_shapes_and_dtypes(new, state)
        chex.assert_tree_all_finite(metrics)
        assert {"td_loss", "nc_loss", "q_mean", "grad_a_norm", "next_action_at_bound"} <= set(metrics)
        assert int(new.updates) == 1 and int(new.opt_state[0].count) == 2  # two Adam steps
        # Online parameters moved; the target moved by exactly tau of the way.
        p0, p1 = state.params["critics"]["out"]["kernel"], new.params["critics"]["out"]["kernel"]
        t1 = new.target_params["critics"]["out"]["kernel"]
        assert not np.allclose(p0, p1)
        np.testing.assert_allclose(t1, 0.995 * p0 + 0.005 * p1, rtol=1e-5, atol=1e-7)

    @chex.variants(with_jit=True, without_jit=True)
    def test_lql_update_has_no_noise_conditioning(self) -> None:
        cfg = AlgoConfig(variant="lql", sampler=SamplerConfig(num_levels=1, steps_per_level=4), **SMALL)
        agent = Agent(cfg, 3, 2)
        state = agent.init(jax.random.PRNGKey(0))
        assert "level_in" not in state.params["critics"]  # no level embedding at all
        new, metrics = self.variant(agent.update)(state, _batch(), jax.random.PRNGKey(1))
        assert "nc_loss" not in metrics
        assert int(new.opt_state[0].count) == 1
        a = agent.act(new.params, _batch().obs, jax.random.PRNGKey(2))
        chex.assert_shape(a, (8, 2))
        assert float(jnp.abs(a).max()) <= 1.0
