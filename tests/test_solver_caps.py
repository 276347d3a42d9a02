"""The faithful physics tier: caps that no state reaches, so rollouts stay bit-identical to the
XML's caps (`envs/solver_caps.py`). The quick test counts Hopper's solver iterations; the heavy
one re-proves the identity on all six tasks, batched, in float64."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from envs_fixtures import TASKS, x64

import envs
from envs import solver_caps

STEPS = 300
STARTS = 3


def _runs(env: envs.MjxEnv, policies: tuple[str, ...]) -> list[tuple[np.ndarray, jax.Array]]:
    out = []
    for i, policy in enumerate(policies):
        key = jax.random.fold_in(jax.random.PRNGKey(7), i)
        out.append((solver_caps.action_sequence(policy, key, STEPS, STARTS, env.action_size, env.dt), key))
    return out


def test_action_sequences_are_in_range_and_shaped() -> None:
    key = jax.random.PRNGKey(0)
    for policy in solver_caps.POLICIES:
        a = solver_caps.action_sequence(policy, key, 50, 3, 4, 0.01)
        assert a.shape == (50, 3, 4) and np.all(np.abs(a) <= 1.0), policy
    bang = solver_caps.action_sequence("bangbang", key, 200, 3, 4, 0.01)
    assert set(np.unique(bang)) == {-1.0, 1.0}
    flips = np.mean(bang[1:] != bang[:-1])
    assert 0.05 < flips < 0.15  # each joint flips with probability 0.1 per step
    with pytest.raises(ValueError, match="unknown policy 'nope'"):
        solver_caps.action_sequence("nope", key, 5, 1, 1, 0.01)


def test_hopper_states_stay_below_the_faithful_caps() -> None:
    """Fails when some state needs as many iterations as a cap allows, i.e. before it binds.
    A line search that stalls (runs to the XML's 50 without meeting its tolerance, seen at rest)
    is the one exception: the heavy test shows the cut leaves the trajectory unchanged."""
    with x64():
        env = envs.make("hopper", physics="gymnasium")
        rows = solver_caps.count_iterations(env, _runs(env, ("uniform", "zero", "bangbang")))
    caps = envs.make("hopper").faithful_caps
    for row in rows:
        assert row["solves"] > 1000
        assert 1 <= row["max_solver_iterations"] < caps.iterations, row
        ls = {int(k) for k in row["ls_histogram"]} - {int(env.mj_model.opt.ls_iterations)}
        assert max(ls) < caps.ls_iterations, row


@pytest.mark.slow
@pytest.mark.parametrize("name", TASKS)
def test_faithful_caps_are_bit_identical_to_the_xml_caps(name: str) -> None:
    """float64, batched like training: the same starts and actions give the same qpos and qvel at
    every step under the faithful tier as under the XML's caps."""
    with x64():
        env = envs.make(name, physics="gymnasium")
        runs = _runs(env, ("uniform", "zero", "bangbang", "sine"))
        gaps = solver_caps.check_caps(name, runs)
    for policy, gap in zip(("uniform", "zero", "bangbang", "sine"), gaps, strict=True):
        assert gap == {"qpos_max_abs_diff": 0.0, "qvel_max_abs_diff": 0.0}, (policy, gap)
