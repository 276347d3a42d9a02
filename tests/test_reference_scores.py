"""Published SAC curves in `reference_scores`: the transcribed rows and the look-ups at equal
transitions and at equal gradient updates."""

from __future__ import annotations

import itertools
import math

import pytest

from mjx_nclql.tools.reference_scores import (
    SAC_CURVE_MAX_STEP,
    SAC_CURVE_STEP,
    SAC_CURVES,
    SAC_START_STEPS,
    SCORES,
    sac_at_transitions,
    sac_at_updates,
)

TASKS = sorted(SAC_CURVES)
# The early evaluation points of the runs here, in post-warm-up transitions or updates.
RUN_POINTS = (0, 12_500, 25_000, 37_500, 50_000, 100_000, 150_000, 200_000)


def test_curves_cover_the_normalised_tasks():
    assert set(SAC_CURVES) == set(SCORES)


@pytest.mark.parametrize("task", TASKS)
def test_rows_every_5000_steps_from_0_to_200000(task):
    steps = [row[0] for row in SAC_CURVES[task]]
    assert steps == list(range(0, SAC_CURVE_MAX_STEP + 1, SAC_CURVE_STEP))
    assert len(steps) == 41
    for _, mean, std in SAC_CURVES[task]:
        assert math.isfinite(mean)
        assert std >= 0


@pytest.mark.parametrize("task", TASKS)
def test_row_points_return_the_published_row(task):
    for step, mean, std in SAC_CURVES[task]:
        assert sac_at_transitions(task, step) == (mean, std)
        assert sac_at_updates(task, step) == (mean, std)


@pytest.mark.parametrize("task", TASKS)
def test_linear_between_rows(task):
    rows = SAC_CURVES[task]
    for (x0, mean0, std0), (x1, mean1, std1) in itertools.pairwise(rows):
        mean, std = sac_at_transitions(task, (x0 + x1) / 2)
        assert mean == pytest.approx((mean0 + mean1) / 2, abs=1e-9)
        assert std == pytest.approx((std0 + std1) / 2, abs=1e-9)
    x0, mean0, _ = rows[2]
    x1, mean1, _ = rows[3]
    quarter = x0 + (x1 - x0) / 4
    assert sac_at_transitions(task, quarter)[0] == pytest.approx(0.75 * mean0 + 0.25 * mean1)


@pytest.mark.parametrize("task", TASKS)
def test_updates_and_transitions_share_the_env_step_axis(task):
    # Tianshou's env_step leaves out SAC's random start steps and SAC updates once per step
    # after them, so U updates sit at env_step U, not at SAC_START_STEPS + U.
    for point in RUN_POINTS:
        assert sac_at_updates(task, point) == sac_at_transitions(task, point)
    assert SAC_START_STEPS == 10_000
    assert sac_at_updates(task, 50_000) != sac_at_transitions(task, SAC_START_STEPS + 50_000)


def test_task_names_are_case_insensitive():
    assert sac_at_transitions("Hopper", 150_000) == sac_at_transitions("hopper", 150_000)


@pytest.mark.parametrize("fn", [sac_at_transitions, sac_at_updates])
@pytest.mark.parametrize("step", [-1, -0.5, SAC_CURVE_MAX_STEP + 1, 1e9, math.nan, math.inf])
def test_outside_the_curve_raises(fn, step):
    with pytest.raises(ValueError, match="outside"):
        fn("hopper", step)


@pytest.mark.parametrize("fn", [sac_at_transitions, sac_at_updates])
def test_unknown_task_raises(fn):
    with pytest.raises(ValueError, match="no published SAC curve"):
        fn("reacher", 10_000)


@pytest.mark.parametrize(
    ("task", "step", "mean", "std"),
    [
        # Quoted in docs/results.md (1 decimal).
        ("hopper", 100_000, 2613.5, 990.8),
        ("hopper", 150_000, 2782.8, 827.8),
        ("hopper", 200_000, 3234.4, 314.2),
        ("halfcheetah", 100_000, 6514.6, 514.2),
        ("halfcheetah", 150_000, 7464.9, 720.8),
        ("halfcheetah", 200_000, 8207.6, 928.3),
        # Further rows of the published csv files.
        ("ant", 0, 990.3785, 4.297),
        ("ant", 50_000, 711.1211, 181.235),
        ("humanoid", 200_000, 767.8674, 306.8412),
        ("swimmer", 25_000, 39.3281, 2.1892),
        ("walker2d", 100_000, 1305.246, 795.0855),
        ("walker2d", 195_000, 1713.5455, 1319.3),
    ],
)
def test_published_values(task, step, mean, std):
    got_mean, got_std = sac_at_transitions(task, step)
    assert got_mean == pytest.approx(mean, abs=0.05)
    assert got_std == pytest.approx(std, abs=0.05)


def test_early_run_points_interpolate_published_rows():
    # Hopper: 282.0917 at 10,000 and 336.6352 at 15,000; 12,500 is halfway.
    mean, std = sac_at_transitions("hopper", 12_500)
    assert mean == pytest.approx((282.0917 + 336.6352) / 2)
    assert std == pytest.approx((46.6158 + 45.5268) / 2)
    # HalfCheetah: 3365.0157 at 25,000 exactly; 37,500 halfway between 35,000 and 40,000.
    assert sac_at_updates("halfcheetah", 25_000) == (3365.0157, 417.5691)
    assert sac_at_updates("halfcheetah", 37_500)[0] == pytest.approx((3983.1205 + 4326.9325) / 2)


@pytest.mark.parametrize(
    "task",
    # Ant's 1000-step episodes on its contact-rich model take ~16 s for the 40: heavy tier.
    [*(t for t in sorted(SCORES) if t != "ant"), pytest.param("ant", marks=pytest.mark.slow)],
)
def test_zero_action_scores_are_what_the_documented_command_measures(task):
    """`zero_action` is the Gymnasium mean return of `envs.fidelity`'s zero policy with its
    default episode counts and seed; the zero action is deterministic given the reset seeds, so
    a rerun reproduces it to the two decimals kept."""
    from envs.fidelity import EPISODES, EPISODES_LONG, LONG_EPISODE_TASKS, gym_episodes

    episodes = EPISODES_LONG if task in LONG_EPISODE_TASKS else EPISODES
    got = gym_episodes(task, episodes, seed=0, policy="zero")
    assert got["nonfinite"] == 0
    assert got["return_mean"] == pytest.approx(SCORES[task].zero_action, abs=0.006)


def test_zero_action_is_above_random_where_staying_alive_pays():
    """The alive bonus pays for doing nothing on Hopper, Walker2d, Ant and Humanoid; HalfCheetah
    and Swimmer pay only for moving and for actions' cost, so resting scores near 0 there."""
    for task in ("hopper", "walker2d", "ant", "humanoid"):
        assert SCORES[task].zero_action > SCORES[task].random + 50.0
    for task in ("halfcheetah", "swimmer"):
        assert abs(SCORES[task].zero_action) < 5.0


def test_an_unknown_fixed_policy_is_refused_before_any_episode():
    from envs.fidelity import gym_episodes

    with pytest.raises(ValueError, match="unknown policy 'still'; choose one of uniform, zero"):
        gym_episodes("hopper", 1, policy="still")
