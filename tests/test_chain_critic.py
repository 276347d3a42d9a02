"""The cheaper forms the Langevin chain runs are the critic it replaces, up to float rounding:
Mish with one exponential and the critic factored for a chain."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_nclql.algo.agent import Agent
from mjx_nclql.algo.batch import Batch
from mjx_nclql.algo.critic import mish
from mjx_nclql.core.config import AlgoConfig, CriticConfig, SamplerConfig

OBS_DIM, ACTION_DIM, ROWS = 17, 6, 64


def _mish_reference(x: jax.Array) -> jax.Array:
    return x * jnp.tanh(jax.nn.softplus(x))


def test_mish_matches_the_three_transcendental_form() -> None:
    # Up to |x| = 60: beyond that the reference's values below zero are float32 denormals.
    x = jnp.linspace(-60.0, 60.0, 1_200_001, dtype=jnp.float32)
    ref, fast = _mish_reference(x), mish(x)
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-30)
    grad_ref = jax.vmap(jax.grad(_mish_reference))(x)
    grad_fast = jax.vmap(jax.grad(mish))(x)
    np.testing.assert_allclose(grad_fast, grad_ref, rtol=1e-4, atol=1e-5)
    # Large arguments neither overflow nor lose the identity mish(x) = x.
    big = jnp.asarray([-1e30, -1e4, 1e4, 1e30], jnp.float32)
    assert np.all(np.isfinite(mish(big))) and np.all(np.isfinite(jax.vmap(jax.grad(mish))(big)))
    np.testing.assert_array_equal(mish(big[2:]), big[2:])
    np.testing.assert_array_equal(jax.vmap(jax.grad(mish))(big[2:]), [1.0, 1.0])


def _agent(variant: str, hidden: tuple[int, ...] = (64, 64, 64)) -> Agent:
    levels = 10 if variant == "nclql" else 1
    cfg = AlgoConfig(
        variant=variant,
        critic=CriticConfig(hidden_sizes=hidden),
        sampler=SamplerConfig(num_levels=levels, steps_per_level=20 // levels, num_particles=3),
    )
    return Agent(cfg, OBS_DIM, ACTION_DIM)


class _UnfactoredAgent(Agent):
    """The agent acting through the critic's plain apply (the form ChainCritic replaces)."""

    def chain_critic(self, params):  # type: ignore[override]
        return self.q_fn(params)


def _inputs() -> tuple[jax.Array, jax.Array]:
    obs = 3.0 * jax.random.normal(jax.random.key(1), (ROWS, OBS_DIM))
    action = jax.random.uniform(jax.random.key(2), (ROWS, ACTION_DIM), minval=-1, maxval=1)
    return obs, action


@pytest.mark.parametrize("variant", ["nclql", "lql"])
def test_chain_critic_values_and_action_gradients(variant: str) -> None:
    agent = _agent(variant)
    params = agent.init(jax.random.key(0)).params
    obs, action = _inputs()
    chain = agent.chain_critic(params)
    context = chain.prepare(obs)
    for level in range(agent.cfg.sampler.num_levels):
        lvl = jnp.asarray(level, jnp.int32)
        q = agent.apply(params, obs, action, lvl)
        np.testing.assert_allclose(chain(context, action, lvl), q, rtol=1e-5, atol=1e-6)
        grad = jax.grad(lambda a, lvl=lvl: agent.apply(params, obs, a, lvl).sum())(action)
        grad_chain = jax.grad(lambda a, lvl=lvl: chain(context, a, lvl).sum())(action)
        np.testing.assert_allclose(grad_chain, grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("variant", ["nclql", "lql"])
def test_a_full_chain_and_an_update_match_the_plain_critic(variant: str) -> None:
    agent = _agent(variant)
    plain = _UnfactoredAgent(agent.cfg, agent.obs_dim, agent.action_dim)
    state = agent.init(jax.random.key(0))
    obs, action = _inputs()
    key = jax.random.key(3)
    # 20 Langevin steps, best of 3 particles: the same actions up to rounding, which the
    # chain's normalised steps and clipping can grow to ~1e-4 on a rare row.
    actions = jax.jit(agent.act)(state.params, obs, key)
    actions_plain = jax.jit(plain.act)(state.params, obs, key)
    np.testing.assert_allclose(actions, actions_plain, rtol=0, atol=2e-4)
    assert float(jnp.mean(jnp.abs(actions - actions_plain))) < 2e-6
    batch = Batch(
        obs=obs,
        action=action,
        reward=jnp.linspace(-1, 1, ROWS),
        next_obs=obs[::-1],
        terminated=jnp.zeros((ROWS,)),
    )
    new, metrics = jax.jit(agent.update)(state, batch, key)
    new_plain, metrics_plain = jax.jit(plain.update)(state, batch, key)
    for leaf, leaf_plain in zip(jax.tree.leaves(new.params), jax.tree.leaves(new_plain.params), strict=True):
        np.testing.assert_allclose(leaf, leaf_plain, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(metrics["td_loss"], metrics_plain["td_loss"], rtol=1e-5)
