"""float32 MJX is the same task as Gymnasium (MuJoCo C, float64): the CI-sized checks of
`python -m envs.fidelity` (the full six-task figures are in envs/README.md)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.fidelity import distribution, drift


@pytest.mark.slow
def test_random_policy_return_on_float32_mjx_matches_gymnasium() -> None:
    """Hopper under uniform random actions, 96 episodes per simulator: the mean returns agree
    within 4 standard errors of their difference, the lengths within 20%, and no episode of
    either went non-finite."""
    d = distribution("hopper", 96, seed=1)
    mjx, gym = d["mjx_float32"], d["gymnasium"]
    print(d)
    assert mjx["episodes"] == gym["episodes"] == 96
    assert abs(d["difference"]["z"]) < 4.0
    assert 5.0 < mjx["return_mean"] < 60.0  # a random Hopper falls within ~20 steps
    assert abs(mjx["length_mean"] - gym["length_mean"]) < 0.2 * gym["length_mean"]
    assert mjx["nonfinite"] == gym["nonfinite"] == 0


@pytest.mark.slow
def test_float32_drift_starts_at_round_off_and_stays_small() -> None:
    """Same starts and actions in float32 and float64: after one step the qpos gap is float32
    round-off (< 1e-5), and after 30 steps it is still far below the motion's scale (< 1e-3)."""
    d = drift("hopper", steps=30, batch=3)
    gap = d["float32_vs_float64"]
    print(d)
    assert d["float32_nonfinite_starts"] == 0
    assert 0.0 < gap["1"] < 1e-5
    assert gap["30"] < 1e-3
    assert np.isfinite(d["nudged_float64_vs_float64"]["30"])
