"""float64 parity of the MJX ports with Gymnasium's -v4 envs (MuJoCo C).

Each test sets the same qpos/qvel into Gymnasium (`set_state`) and MJX, applies
the same (rescaled) action and compares observation, reward, every reward term
and `terminated`. All MJX work runs inside `x64()`, so nothing leaks out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from envs_fixtures import (
    BATCH,
    HINGE_TASKS,
    HORIZON,
    TASKS,
    compiled_task,
    diverse_states,
    gym_env,
    gym_set_state,
    x64,
)

# Humanoid: MJX runs Newton where Gymnasium's XML asks for PGS, so against stock
# Gymnasium the contact forces agree to PGS's convergence level, not round-off.
CFRC = slice(-84, None)  # Humanoid's cfrc_ext block (14 bodies x 6)
TOL = 1e-6
HUMANOID_STOCK_OBS_TOL = 1e-5  # all but cfrc_ext, vs PGS
HUMANOID_STOCK_CFRC_REL_TOL = 1e-5  # cfrc_ext error / max |cfrc_ext|, vs PGS


@dataclass
class Run:
    """The same start states and actions through MJX and Gymnasium, per env and step."""

    reset_obs: np.ndarray  # [B, obs] (MJX, Gymnasium)
    obs: np.ndarray  # [2, B, T, obs]
    reward: np.ndarray  # [2, B, T]
    terminated: np.ndarray  # [2, B, T]
    terms: dict[str, np.ndarray]  # name -> [2, B, T], terms Gymnasium reports
    gym_reset_obs: np.ndarray
    length: np.ndarray  # [B]: Gymnasium steps until termination (inclusive) or T


_MJX_RUNS: dict[str, Any] = {}


@functools.cache
def run(name: str, newton: bool = False) -> Run:
    qpos, qvel = diverse_states(name, BATCH, seed=1)
    g = gym_env(name, newton=newton)
    actions = np.random.default_rng(2).uniform(-1.0, 1.0, (BATCH, HORIZON, g.model.nu))
    if name not in _MJX_RUNS:
        with x64():
            ct = compiled_task(name)
            keys = jax.random.split(jax.random.PRNGKey(0), BATCH)
            out = ct.rollout(jnp.asarray(qpos), jnp.asarray(qvel), keys, jnp.asarray(actions))
            _MJX_RUNS[name] = jax.device_get(out)
    m_reset, (m_obs, m_rew, m_term, m_metrics) = _MJX_RUNS[name]

    g_obs = np.zeros_like(m_obs)
    g_rew, g_term = np.zeros_like(m_rew), np.zeros_like(m_term)
    g_terms = {k: np.zeros_like(v) for k, v in m_metrics.items()}
    g_reset = np.zeros_like(m_reset)
    length = np.full(BATCH, HORIZON)
    for i in range(BATCH):
        gym_set_state(g, qpos[i], qvel[i])
        g_reset[i] = g._get_obs()
        for t in range(HORIZON):
            ctrl = rescale(g, actions[i, t])
            g_obs[i, t], g_rew[i, t], term, trunc, info = g.step(ctrl)
            assert not trunc
            g_term[i, t] = term
            info = {**_unreported_terms(g, ctrl, info), **info}
            for k in g_terms:
                g_terms[k][i, t] = info.get(k, m_metrics[k][i, t])
            if term:
                length[i] = t + 1
                break
    return Run(
        reset_obs=m_reset,
        obs=np.stack([m_obs, g_obs]),
        reward=np.stack([m_rew, g_rew]),
        terminated=np.stack([m_term, g_term]),
        terms={k: np.stack([m_metrics[k], v]) for k, v in g_terms.items()},
        gym_reset_obs=g_reset,
        length=length,
    )


def rescale(g: Any, action: np.ndarray) -> np.ndarray:
    """[-1, 1] -> ctrlrange in float64, the same arithmetic as MjxEnv.rescale_action."""
    low, high = g.model.actuator_ctrlrange.T
    return (high + low) / 2.0 + action * ((high - low) / 2.0)


def _unreported_terms(g: Any, ctrl: np.ndarray, info: dict[str, Any]) -> dict[str, float]:
    """Hopper/Walker2d v4 do not put their reward terms in `info`; rebuild them from
    the Gymnasium env's own methods so they are compared too."""
    if type(g).__name__ not in ("HopperEnv", "Walker2dEnv"):
        return {}
    return {
        "reward_forward": g._forward_reward_weight * info["x_velocity"],
        "reward_ctrl": -g.control_cost(ctrl),
        "reward_survive": g.healthy_reward,
    }


def _alive(r: Run) -> np.ndarray:
    """[B, T] mask of the steps Gymnasium actually took (up to its termination)."""
    return np.arange(HORIZON)[None, :] < r.length[:, None]


# One task (Hopper: contacts and terminations) in the quick tier; the other five, with the
# rollouts and the random-policy returns, in the heavy tier (`-m slow`).
QUICK_TASK = "hopper"
TASK_TIERS = [name if name == QUICK_TASK else pytest.param(name, marks=pytest.mark.slow) for name in TASKS]


@pytest.mark.parametrize("name", TASK_TIERS)
def test_one_step_parity_from_diverse_states(name: str) -> None:
    variants = (False, True) if name == "humanoid" else (False,)
    for newton in variants:
        r = run(name, newton)
        reset_mjx, reset_gym = r.reset_obs, r.gym_reset_obs
        obs = r.obs[:, :, 0]
        if name == "humanoid":
            # After set_state C has not run rnePostConstraint: cfrc_ext is stale there.
            reset_mjx, reset_gym = reset_mjx[:, :-84], reset_gym[:, :-84]
            scale = np.maximum(1.0, np.abs(obs[1][:, CFRC]).max(axis=1))
            cfrc_err = (np.abs(obs[0][:, CFRC] - obs[1][:, CFRC]).max(axis=1) / scale).max()
            obs = obs[:, :, :-84]
        err = {
            "reset_obs": np.abs(reset_mjx - reset_gym).max(),
            "obs": np.abs(obs[0] - obs[1]).max(),
            "reward": np.abs(r.reward[0, :, 0] - r.reward[1, :, 0]).max(),
            "terms": max(np.abs(v[0, :, 0] - v[1, :, 0]).max() for v in r.terms.values()),
        }
        print(name, "newton" if newton else "stock", {k: float(v) for k, v in err.items()})
        stock_humanoid = name == "humanoid" and not newton
        assert err["reset_obs"] <= TOL
        assert err["obs"] <= (HUMANOID_STOCK_OBS_TOL if stock_humanoid else TOL)
        assert err["reward"] <= TOL
        assert err["terms"] <= TOL
        np.testing.assert_array_equal(r.terminated[0, :, 0], r.terminated[1, :, 0])
        if name == "humanoid":
            print(name, "cfrc_ext relative error", float(cfrc_err))
            assert cfrc_err <= (HUMANOID_STOCK_CFRC_REL_TOL if stock_humanoid else TOL)


# Over 50 steps, rare discrete events (a contact entering the margin, a solver
# stopping one iteration earlier: MJX's vmapped solve iterates until every env of
# the batch converges) seed ~1e-8 differences that chaotic contact dynamics grow.
ROLLOUT_MEDIAN_TOL = 1e-6  # median over envs of the max obs error along the rollout
ROLLOUT_MAX_TOL = 0.05  # worst env, worst step
ROLLOUT_RETURN_REL_TOL = 1e-3  # per-episode return, relative to mean |return|


@pytest.mark.slow
@pytest.mark.parametrize("name", HINGE_TASKS + ("ant",))
def test_rollout_parity(name: str) -> None:
    r = run(name)
    alive = _alive(r)
    err = np.where(alive, np.abs(r.obs[0] - r.obs[1]).max(axis=-1), 0.0).max(axis=1)
    returns = np.where(alive, r.reward, 0.0).sum(axis=-1)
    ret_err = np.abs(returns[0] - returns[1]).max() / np.abs(returns[1]).mean()
    print(
        name,
        f"{HORIZON}-step rollouts: median obs err",
        np.median(err),
        "max",
        err.max(),
        "return rel err",
        ret_err,
        "gym terminations",
        int((r.length < HORIZON).sum()),
    )
    assert np.median(err) <= ROLLOUT_MEDIAN_TOL
    assert err.max() <= ROLLOUT_MAX_TOL
    assert ret_err <= ROLLOUT_RETURN_REL_TOL
    # terminated agrees at every step Gymnasium took
    np.testing.assert_array_equal(np.where(alive, r.terminated[0], 0), r.terminated[1])
    if name in ("hopper", "walker2d"):
        assert (r.length < HORIZON).any()  # the termination rule was exercised


@pytest.mark.slow
@pytest.mark.parametrize("name,rel_tol", [("ant", 1e-3), ("humanoid", 1e-3)])
def test_mean_random_policy_return(name: str, rel_tol: float) -> None:
    """Chaotic 3D contact dynamics: compare the mean return over BATCH episodes."""
    r = run(name)
    alive = _alive(r)
    mjx_alive = np.cumsum(r.terminated[0], axis=1) - r.terminated[0] == 0
    gym_mean = np.where(alive, r.reward[1], 0.0).sum(axis=1).mean()
    mjx_mean = np.where(mjx_alive, r.reward[0], 0.0).sum(axis=1).mean()
    print(name, "mean return over", BATCH, "episodes: gym", gym_mean, "mjx", mjx_mean)
    assert abs(mjx_mean - gym_mean) <= rel_tol * abs(gym_mean)


RESET_NOISE = {  # v4: (qpos distribution, qvel distribution, scale)
    "halfcheetah": ("uniform", "normal", 0.1),
    "ant": ("uniform", "normal", 0.1),
    "hopper": ("uniform", "uniform", 5e-3),
    "walker2d": ("uniform", "uniform", 5e-3),
    "swimmer": ("uniform", "uniform", 0.1),
    "humanoid": ("uniform", "uniform", 1e-2),
}


def _moments(x: np.ndarray) -> tuple[float, float, float]:
    x = x.ravel()
    std = x.std()
    return x.mean(), std, float(np.mean(((x - x.mean()) / std) ** 4))


@pytest.mark.parametrize("name", TASKS)  # cheap: all six in the quick tier
def test_reset_noise_matches_gymnasium(name: str) -> None:
    n_mjx, n_gym = 2048, 400
    g = gym_env(name)
    gq, gv = [], []
    for i in range(n_gym):
        g.reset(seed=i)
        gq.append(g.data.qpos - g.init_qpos)
        gv.append(g.data.qvel - g.init_qvel)
    with x64():
        ct = compiled_task(name)
        mq, mv = ct.noise(jax.random.split(jax.random.PRNGKey(7), n_mjx))
        mq = np.asarray(mq) - ct.env.init_qpos
        mv = np.asarray(mv) - ct.env.init_qvel
    q_dist, v_dist, scale = RESET_NOISE[name]
    for dist, m, gx in ((q_dist, mq, np.stack(gq)), (v_dist, mv, np.stack(gv))):
        mean, std, kurt = _moments(m)
        g_mean, g_std, g_kurt = _moments(gx)
        expected_std = scale / np.sqrt(3.0) if dist == "uniform" else scale
        expected_kurt = 1.8 if dist == "uniform" else 3.0
        assert abs(mean) <= 5 * expected_std / np.sqrt(m.size)
        assert abs(std / expected_std - 1) <= 0.03
        assert abs(g_std / expected_std - 1) <= 0.05  # Gymnasium follows the same law
        assert abs(kurt - expected_kurt) <= 0.15 and abs(g_kurt - expected_kurt) <= 0.3
        assert abs(g_mean) <= 5 * expected_std / np.sqrt(gx.size)
        if dist == "uniform":
            assert np.abs(m).max() <= scale and np.abs(gx).max() <= scale
        # each env gets its own draw
        assert len(np.unique(m[:, 0])) == m.shape[0]
