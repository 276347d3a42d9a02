"""The 2-D bandit reproduction, small version: NC-LQL's sampler must cover all four modes."""

from __future__ import annotations

import numpy as np
import pytest

from mjx_nclql.tools import bandit2d

# Small version (1,500 updates, batch 128, L*T = 100): NC-LQL's total variation to the
# Boltzmann masses was 0.16 / 0.20 / 0.22 for seeds 0 / 1 / 2 and its rarest mode got >= 3% of
# the samples; the same sampler on the exact critic gives 0.06-0.07. LQL was at 0.20-0.21,
# i.e. not robustly worse at this size, so it is printed, not asserted.
TV_MAX = 0.3
MIN_MODE_FREQ = 0.01


def test_boltzmann_masses_are_four_unequal_modes() -> None:
    _, pts = bandit2d.grid(201)
    q = 0.2 * np.asarray(bandit2d.reward(pts))
    m = bandit2d.mode_masses(q, pts, 12.0)
    assert m[:4].sum() > 0.99
    assert np.all(m[:4] > 0.05)
    assert m[0] > 1.5 * m[1] > 1.5 * m[3]  # clearly different, widest mode heaviest


def test_assign_modes_and_coverage() -> None:
    pts = np.concatenate([bandit2d.CENTERS, [[0.0, 0.0]]])
    np.testing.assert_array_equal(bandit2d.assign_modes(pts), [0, 1, 2, 3, 4])
    w = np.array([0.5, 0.5, 0.0, 0.0, 0.0])
    cov = bandit2d.coverage(bandit2d.CENTERS[[0, 0, 1, 1]], w)
    assert cov["modes_visited"] == 0.5
    assert cov["total_variation"] == pytest.approx(0.0)


@pytest.mark.slow
def test_small_run_nclql_covers_all_modes() -> None:
    res = bandit2d.run(bandit2d.BanditConfig.small(), out_dir=None)
    nc, lql = res["methods"]["nclql"], res["methods"]["lql"]
    print(f"NC-LQL: TV {nc['total_variation']:.3f}, freqs {nc['frequencies']}")
    print(f"LQL:    TV {lql['total_variation']:.3f}, freqs {lql['frequencies']}")
    assert nc["modes_visited"] == 1.0
    assert min(nc["frequencies"][:4]) >= MIN_MODE_FREQ
    assert nc["total_variation"] < TV_MAX
    # The annealed sampler itself, on the exact smoothed critic, is close to the law.
    assert nc["exact_q_sampler"]["total_variation"] < 0.12
    # ... and plain Langevin at the same budget, at its best step size, is further from it
    # (0.108 against 0.072 when measured: it keeps more of its start basin's share).
    assert lql["exact_q_sampler"]["total_variation"] > nc["exact_q_sampler"]["total_variation"] + 0.02
    assert nc["q_mae_grid"] < 0.15
    assert lql["q_mae_grid"] < 0.15
