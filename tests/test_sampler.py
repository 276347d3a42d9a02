"""The Langevin samplers: contracts (shape, bounds, determinism) and the law they sample."""

from __future__ import annotations

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mjx_nclql import SamplerConfig, annealed_langevin, langevin
from mjx_nclql.algo.noise import noise_levels, step_sizes


def test_noise_levels_are_geometric_from_max_to_min() -> None:
    sig = np.asarray(noise_levels(0.1, 0.001, 10))
    np.testing.assert_allclose(sig[0], 0.1, rtol=1e-6)
    np.testing.assert_allclose(sig[-1], 0.001, rtol=1e-6)
    ratios = sig[1:] / sig[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-5)
    alphas = np.asarray(step_sizes(jnp.asarray(sig), 1e-4))
    np.testing.assert_allclose(alphas[-1], 1e-4, rtol=1e-6)
    np.testing.assert_allclose(alphas[0], 1e-4 * 100**2, rtol=1e-4)


def _bowl(mu: jax.Array):
    """Two 'critics' (a twin) with a quadratic peak at mu; the level is ignored."""

    def q(obs: jax.Array, a: jax.Array, level: jax.Array) -> jax.Array:
        v = -jnp.sum((a - mu) ** 2, axis=-1) + 0.0 * obs[:, 0]
        return jnp.stack([v, 1.1 * v])

    return q


class SamplerContractTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_shape_dtype_bounds_determinism(self) -> None:
        cfg = SamplerConfig(num_levels=4, steps_per_level=2)
        q = _bowl(jnp.array([0.3, -0.2, 0.9]))
        obs = jnp.ones((64, 5))
        for fn in (annealed_langevin, langevin):
            sample = self.variant(lambda o, k, fn=fn: fn(q, o, k, cfg, 3))
            a = sample(obs, jax.random.key(0))
            chex.assert_shape(a, (64, 3))
            chex.assert_type(a, jnp.float32)
            chex.assert_tree_all_finite(a)
            assert float(jnp.max(jnp.abs(a))) <= 1.0
            np.testing.assert_array_equal(a, sample(obs, jax.random.key(0)))
            assert not np.allclose(a, sample(obs, jax.random.key(1)))

    def test_unrolling_the_chain_computes_the_same_steps(self) -> None:
        """`unroll` is a speed setting: 1 (a loop), 3 (not a divisor of L*T = 8) and the whole
        chain give the same actions up to float32 rounding (XLA fuses the unrolled steps
        differently), for both samplers and with particles."""
        cfg = SamplerConfig(num_levels=4, steps_per_level=2, num_particles=2, w=50.0)
        q = _bowl(jnp.array([0.3, -0.2, 0.9]))
        obs = jnp.ones((32, 5))
        for fn in (annealed_langevin, langevin):
            a = [
                jax.jit(
                    lambda o, u=u, fn=fn: fn(q, o, jax.random.key(4), dataclasses.replace(cfg, unroll=u), 3)
                )(obs)
                for u in (1, 3, 8)
            ]
            np.testing.assert_allclose(a[0], a[1], rtol=0, atol=1e-6)
            np.testing.assert_allclose(a[0], a[2], rtol=0, atol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_actions_stay_in_box_even_with_huge_steps(self) -> None:
        # A step size far larger than the box: every iterate must still be clipped.
        cfg = SamplerConfig(num_levels=3, steps_per_level=3, eps=10.0, w=1e4, num_particles=3)
        q = _bowl(jnp.array([5.0, -5.0]))
        a = self.variant(lambda k: annealed_langevin(q, jnp.zeros((128, 1)), k, cfg, 2))(jax.random.key(3))
        chex.assert_shape(a, (128, 2))
        assert float(jnp.max(jnp.abs(a))) <= 1.0
        # The peak lies outside the box towards (+, -): samples pile on that corner.
        np.testing.assert_allclose(np.asarray(a).mean(0), [1.0, -1.0], atol=1e-3)

    def test_particles_pick_the_best_chain_by_min_q(self) -> None:
        # Without drift the chains are noise; best-of-N must pick the highest min-Q one.
        mu = jnp.array([0.5, 0.5])
        cfg1 = SamplerConfig(num_levels=2, steps_per_level=1, w=1e-6, eps=1e-6)
        cfgn = SamplerConfig(num_levels=2, steps_per_level=1, w=1e-6, eps=1e-6, num_particles=16)
        obs = jnp.zeros((2000, 1))
        q = _bowl(mu)
        one = annealed_langevin(q, obs, jax.random.key(0), cfg1, 2)
        best = annealed_langevin(q, obs, jax.random.key(0), cfgn, 2)
        d1 = float(jnp.mean(jnp.sum((one - mu) ** 2, -1)))
        dn = float(jnp.mean(jnp.sum((best - mu) ** 2, -1)))
        # Uniform start: E|a-mu|^2 = 2/3 + 0.5; the best of 16 is much closer.
        assert abs(d1 - (2 / 3 + 0.5)) < 0.05
        assert dn < 0.25 * d1


# --- the law: a quadratic Q whose Boltzmann distribution is a Gaussian inside the box -------

MU = np.array([0.2, -0.1])
PREC = np.array([[150.0, 50.0], [50.0, 100.0]])  # w * precision with w = 1
COV = np.linalg.inv(PREC)  # stds 0.089 / 0.110, correlation -0.41: 5+ stds inside the box
N_SAMPLES = 20_000
# Tolerances: the mean's standard error is std/sqrt(N) ~ 8e-4 (tolerance 5e-3 ~ 6 SE); a
# covariance entry's sampling error is ~sqrt(2/N) = 1% of sqrt(var_i var_j) and the Euler
# bias of Langevin with alpha = 1e-4 is alpha * w * lambda_max / 4 ~ 0.5%: tolerance 6%.
MEAN_TOL = 5e-3
COV_TOL = 0.06


def _quadratic_q(sign: float = 1.0):
    mu, prec = jnp.asarray(MU), jnp.asarray(PREC)

    def q(obs: jax.Array, a: jax.Array, level: jax.Array) -> jax.Array:
        d = a - mu
        return sign * (-0.5 * jnp.einsum("bi,ij,bj->b", d, prec, d))[None]

    return q


def _moment_errors(samples: np.ndarray) -> tuple[float, float]:
    mean_err = float(np.max(np.abs(samples.mean(0) - MU)))
    scale = np.sqrt(np.outer(np.diag(COV), np.diag(COV)))
    cov_err = float(np.max(np.abs((np.cov(samples.T) - COV) / scale)))
    return mean_err, cov_err


_PLAIN = SamplerConfig(w=1.0, num_levels=1, steps_per_level=1500, eps=1e-4, grad_norm=False)
_ANNEALED = SamplerConfig(
    w=1.0,
    num_levels=4,
    steps_per_level=400,
    sigma_max=0.004,
    sigma_min=0.001,
    eps=1e-4,
    grad_norm=False,
)


@pytest.mark.parametrize(
    ("fn", "cfg"), [(langevin, _PLAIN), (annealed_langevin, _ANNEALED)], ids=["plain", "annealed"]
)
def test_sampler_matches_gaussian_boltzmann_law(fn, cfg: SamplerConfig) -> None:
    obs = jnp.zeros((N_SAMPLES, 1))
    x = np.asarray(jax.jit(lambda k: fn(_quadratic_q(), obs, k, cfg, 2))(jax.random.key(0)))
    mean_err, cov_err = _moment_errors(x)
    print(f"{fn.__name__}: max |mean err| {mean_err:.4f}, max rel cov err {cov_err:.4f}")
    assert mean_err < MEAN_TOL
    assert cov_err < COV_TOL


def test_moment_check_catches_broken_samplers() -> None:
    """The same check fails for a wrong gradient sign and for a wrong noise-to-drift scale.
    Both errors are many times the tolerances, so a fifth of the samples shows them (the
    covariance's sampling error grows to ~sqrt(2/4000) = 2%, against a 24% threshold)."""
    obs = jnp.zeros((N_SAMPLES // 5, 1))
    sample = jax.jit(lambda q, k, cfg: langevin(q, obs, k, cfg, 2), static_argnums=(0, 2))
    # Wrong sign: the chain runs away from the peak to the box's corners.
    wrong_sign = np.asarray(sample(_quadratic_q(-1.0), jax.random.key(0), _PLAIN))
    assert _moment_errors(wrong_sign)[0] > 10 * MEAN_TOL
    # Noise too small by sqrt(2) relative to the drift (as w doubled): covariance halves.
    half_noise = np.asarray(
        sample(
            _quadratic_q(),
            jax.random.key(0),
            SamplerConfig(w=2.0, num_levels=1, steps_per_level=1500, eps=1e-4, grad_norm=False),
        )
    )
    assert _moment_errors(half_noise)[1] > 4 * COV_TOL


# --- multimodal coverage -----------------------------------------------------------------

MODES = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])
WIDTHS = np.array([0.2, 0.16, 0.12, 0.08])  # equal heights, unequal widths -> unequal mass
W_MM = 20.0
_MM_CFG = SamplerConfig(
    w=W_MM,
    num_levels=10,
    steps_per_level=20,
    sigma_max=0.7,
    sigma_min=0.02,
    eps=1e-3,
    grad_norm=False,
)


def _bumps_q(sigmas: jax.Array):
    """Q(a) = sum_k exp(-|a-mu_k|^2 / 2 s_k^2) and its exact Gaussian smoothing per level:

    E_e[Q(a + sigma e)] = sum_k s_k^2/(s_k^2+sigma^2) exp(-|a-mu_k|^2 / 2(s_k^2+sigma^2)) in 2-D.
    """
    mus, s2 = jnp.asarray(MODES), jnp.asarray(WIDTHS) ** 2

    def q(obs: jax.Array, a: jax.Array, level: jax.Array) -> jax.Array:
        v = s2 + sigmas[level] ** 2
        d2 = jnp.sum((a[:, None, :] - mus[None]) ** 2, axis=-1)
        return jnp.sum(s2 / v * jnp.exp(-d2 / (2 * v)), axis=-1)[None]

    return q


def _nearest_mode(x: np.ndarray) -> np.ndarray:
    return np.argmin(np.sum((x[:, None, :] - MODES[None]) ** 2, -1), axis=1)


def boltzmann_mode_weights() -> np.ndarray:
    """Mass of exp(w Q) in each mode's quadrant, by quadrature on an 801^2 grid of the box."""
    g = np.linspace(-1, 1, 801)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    q = np.asarray(_bumps_q(jnp.zeros(1))(None, jnp.asarray(grid), jnp.asarray(0))[0])
    p = np.exp(W_MM * (q - q.max()))
    wts = np.bincount(_nearest_mode(grid), p, minlength=4)
    return wts / wts.sum()


def test_annealed_sampler_covers_modes_with_boltzmann_frequencies() -> None:
    weights = boltzmann_mode_weights()
    q = _bumps_q(noise_levels(_MM_CFG.sigma_max, _MM_CFG.sigma_min, _MM_CFG.num_levels))
    obs = jnp.zeros((10_000, 1))
    freqs = {}
    for fn in (annealed_langevin, langevin):
        x = np.asarray(jax.jit(lambda k, fn=fn: fn(q, obs, k, _MM_CFG, 2))(jax.random.key(1)))
        freqs[fn.__name__] = np.bincount(_nearest_mode(x), minlength=4) / len(x)
    tv = {k: 0.5 * float(np.abs(f - weights).sum()) for k, f in freqs.items()}
    print(f"Boltzmann weights {weights.round(3)}")
    for k in freqs:
        print(f"{k}: mode frequencies {freqs[k].round(3)}, total variation {tv[k]:.3f}")
    ann = freqs["annealed_langevin"]
    assert np.all(ann > 0.5 * weights), "annealed sampler misses a mode"
    assert np.max(np.abs(ann - weights)) < 0.08
    assert tv["annealed_langevin"] < 0.1
    # Plain Langevin (same 200 gradient steps, sharpest level) stays in its start quadrant.
    assert tv["langevin"] > tv["annealed_langevin"] + 0.08
