"""The update's losses: TD targets, and noise conditioning towards the smoothed critic."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_nclql.algo.agent import Agent, Batch
from mjx_nclql.algo.losses import td_targets
from mjx_nclql.algo.noise import noise_levels
from mjx_nclql.core.config import AlgoConfig, CriticConfig, SamplerConfig


def test_td_targets_bootstrap_unless_terminated() -> None:
    y = td_targets(
        jnp.array([10.0, 10.0]), jnp.array([1.0, 1.0]), jnp.array([0.0, 1.0]), gamma=0.9, reward_scale=0.2
    )
    np.testing.assert_allclose(y, [0.2 + 9.0, 0.2])


def _quadratic_bandit_batch(key: jax.Array, n: int = 256) -> Batch:
    a = jax.random.uniform(key, (n, 1), minval=-1.0, maxval=1.0)
    return Batch(
        obs=jnp.ones((n, 1)),
        action=a,
        reward=2.0 - 4.0 * a[:, 0] ** 2,
        next_obs=jnp.ones((n, 1)),
        terminated=jnp.ones((n,)),
    )


def smoothed_truth(x: np.ndarray, sigma: float) -> np.ndarray:
    """E[Q(a) | a + sigma e = x] for Q(a) = 2 - 4 a^2 and a ~ Uniform[-1, 1] (quadrature)."""
    a = np.linspace(-1, 1, 4001)
    lik = np.exp(-0.5 * ((x[:, None] - a[None]) / sigma) ** 2)
    return (lik * (2 - 4 * a**2)).sum(1) / lik.sum(1)


@functools.cache
def _fit(step_mode: str):
    cfg = AlgoConfig(
        sampler=SamplerConfig(num_levels=4, steps_per_level=1, sigma_max=0.3, sigma_min=0.03),
        critic=CriticConfig(hidden_sizes=(64, 64)),
        lr=1e-3,
        reward_scale=1.0,
        step_mode=step_mode,
    )
    agent = Agent(cfg, 1, 1)
    state = agent.init(jax.random.PRNGKey(0))

    def body(state, key):
        k1, k2 = jax.random.split(key)
        return agent.update(state, _quadratic_bandit_batch(k1), k2)

    state, metrics = jax.jit(lambda s, k: jax.lax.scan(body, s, jax.random.split(k, 3000)))(
        state, jax.random.PRNGKey(1)
    )
    return agent, state, metrics


@pytest.mark.parametrize("step_mode", ["sequential", "summed"])
def test_noise_conditioning_learns_gaussian_smoothed_q(step_mode: str) -> None:
    """Q(s, x, l) -> E[Q(s, a) | x = a + sigma_l e]; for |x| well inside the box this is
    2 - 4 x^2 - 4 sigma_l^2, so the coarse levels sit visibly (0.36 at sigma 0.3) below."""
    agent, state, metrics = _fit(step_mode)
    sigmas = np.asarray(noise_levels(0.3, 0.03, 4))
    x = np.linspace(-0.6, 0.6, 13)
    errs, mean_errs, clean_gap = [], [], 0.0
    for level in range(4):
        q = agent.apply(state.params, jnp.ones((13, 1)), jnp.asarray(x[:, None]), jnp.asarray(level)).mean(0)
        truth = smoothed_truth(x, sigmas[level]) if level < 3 else 2 - 4 * x**2
        err = np.abs(np.asarray(q) - truth)
        errs.append(float(err.max()))
        mean_errs.append(float(err.mean()))
        if level == 0:
            clean_gap = float(np.abs(np.asarray(q) - (2 - 4 * x**2)).mean())
    print(
        f"{step_mode}: sigmas {sigmas.round(3)}; max error per level {np.round(errs, 4)}, "
        f"mean {np.round(mean_errs, 4)}; level-0 distance to the clean Q {clean_gap:.3f}"
        f" (exact {float(np.abs(smoothed_truth(x, sigmas[0]) - (2 - 4 * x**2)).mean()):.3f})"
    )
    # Q spans [-2, 2]; Adam at a constant lr leaves ~0.05 of regression noise.
    assert max(errs) < 0.12
    assert max(mean_errs) < 0.05
    # Level 0 sits well below the clean Q, as the smoothing predicts (a critic that ignored
    # the level would sit on it).
    truth_gap = float(np.abs(smoothed_truth(x, sigmas[0]) - (2 - 4 * x**2)).mean())
    assert truth_gap > 0.2
    assert abs(clean_gap - truth_gap) < 0.05
    # Sequential mode takes two Adam steps per update; summed mode one.
    count = state.opt_state[0].count
    assert int(count) == (6000 if step_mode == "sequential" else 3000)
    assert np.isfinite(np.asarray(metrics["nc_loss"])).all()
