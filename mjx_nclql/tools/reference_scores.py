"""Per-task scores that normalise returns for aggregation over tasks (`report`).

`random`: mean return of uniform random actions on Gymnasium's -v4 task, measured with
`python -m envs.fidelity --env hopper,walker2d,humanoid,halfcheetah,swimmer,ant --json
docs/fidelity.json` (its defaults: 200 episodes for Hopper, Walker2d and Humanoid, 40
(`--episodes-long`) for Ant, HalfCheetah and Swimmer, full 1000-step time limit; the
"distribution" entries of docs/fidelity.json and the table in envs/README.md).

`zero_action`: mean return of the all-zero action (no torque: the body rests or falls under
gravity) on Gymnasium's -v4 task, measured with `python -m envs.fidelity --env
hopper,walker2d,humanoid,halfcheetah,swimmer,ant --policy zero --drift-env '' --json
docs/fidelity_zero_action.json` (the same episode counts; the table in envs/README.md). Where
the task pays for staying alive (Hopper, Walker2d, Ant, Humanoid) it is above `random`: a
policy has learned something beyond not falling only once it is above both. Not used for
normalising, which keeps the usual random-to-reference scale.

`reference`: SAC's mean evaluation return over 10 seeds at 1M environment steps on the -v3
task (same model, reward and termination as -v4, which moved to the new MuJoCo bindings),
from Tianshou's MuJoCo benchmark data: thu-ml/tianshou,
examples/mujoco/benchmark/<Task>-v3/sac/test_rew_10seeds.csv, row env_step = 1000000.
A task without both scores is left out of the aggregate.

`SAC_CURVES`: the same benchmark's SAC learning curves from env_step 0 to 200,000, for comparing
runs early in training at equal environment transitions (`sac_at_transitions`) and at equal
gradient updates (`sac_at_updates`).
"""

from __future__ import annotations

import dataclasses
import math

SAC_SOURCE = "Tianshou MuJoCo benchmark, SAC, 10 seeds, -v3, env_step 1e6 (test_rew_10seeds.csv)"


@dataclasses.dataclass(frozen=True)
class TaskScores:
    random: float | None
    reference: float | None
    zero_action: float | None = None
    source: str = SAC_SOURCE


SCORES: dict[str, TaskScores] = {
    "ant": TaskScores(random=-62.19, reference=5714.3, zero_action=1000.79),
    "halfcheetah": TaskScores(random=-275.49, reference=12121.9, zero_action=-0.04),
    "hopper": TaskScores(random=19.01, reference=3531.6, zero_action=150.94),
    "humanoid": TaskScores(random=120.65, reference=5415.6, zero_action=208.05),
    "walker2d": TaskScores(random=3.02, reference=4960.9, zero_action=95.95),
    "swimmer": TaskScores(random=-0.55, reference=43.6, zero_action=1.48),
}


# Where SAC's env_step starts. Tianshou's examples/mujoco/mujoco_sac.py (as of commit 002ffd9e;
# examples/mujoco/README.md names e605bdea as the SAC benchmark's commit and, in a footnote, SAC's
# start-timesteps as 10000) defaults to --start-timesteps 10000, --step-per-collect 1,
# --update-per-step 1, --step-per-epoch 5000, and collects the random transitions itself,
# train_collector.collect(n_step=args.start_timesteps, random=True), BEFORE it calls the
# off-policy trainer. The trainer (tianshou/trainer/offpolicy.py, e.g. at 00f1b8e5) starts its
# env_step at 0, tests once before any update, then per collected transition adds 1 to env_step
# and makes round(update_per_step * 1) = 1 gradient update, testing every 5,000 steps;
# examples/mujoco/tools.py writes that env_step unchanged into the csv. So the curves' env_step
# EXCLUDES these random steps (rows at 0 and 5,000 could not exist otherwise): at env_step E,
# SAC has made exactly E updates and collected SAC_START_STEPS + E transitions in all.
SAC_START_STEPS = 10_000

SAC_CURVE_SOURCE = (
    "thu-ml/tianshou@39acf2094d96268d92ebb54dcbfc3de76d702567, "
    "examples/mujoco/benchmark/<Task>-v3/sac/test_rew_10seeds.csv"
)
SAC_CURVE_STEP = 5_000  # the csv's row spacing (--step-per-epoch)
SAC_CURVE_MAX_STEP = 200_000  # the last row kept here

# Rows (env_step, rew, rew:shaded) of SAC_CURVE_SOURCE, digits as published: rew is the mean over
# the 10 seeds of each seed's mean deterministic test return (10 episodes), rew:shaded the
# population standard deviation (numpy's default, ddof=0) over the seeds. env_step as explained
# at SAC_START_STEPS.
SAC_CURVES: dict[str, tuple[tuple[int, float, float], ...]] = {
    "ant": (  # Ant-v3
        (0, 990.3785, 4.297),
        (5_000, 634.386, 184.9621),
        (10_000, 466.3264, 104.4639),
        (15_000, 472.4038, 142.9891),
        (20_000, 506.0177, 161.9189),
        (25_000, 603.8001, 120.5751),
        (30_000, 608.1596, 147.4683),
        (35_000, 596.8617, 185.3435),
        (40_000, 605.0013, 123.9596),
        (45_000, 682.4043, 126.4225),
        (50_000, 711.1211, 181.235),
        (55_000, 712.1348, 158.3893),
        (60_000, 668.6808, 186.2096),
        (65_000, 803.7135, 128.7597),
        (70_000, 836.9211, 249.2294),
        (75_000, 812.1804, 203.7858),
        (80_000, 816.8486, 280.3634),
        (85_000, 838.3772, 331.4502),
        (90_000, 901.242, 295.797),
        (95_000, 859.4468, 261.5593),
        (100_000, 1019.8017, 449.9045),
        (105_000, 1030.3104, 286.2318),
        (110_000, 963.0668, 311.5471),
        (115_000, 1089.9735, 519.6678),
        (120_000, 1178.9178, 389.9193),
        (125_000, 1322.1717, 393.7724),
        (130_000, 1312.6976, 469.6964),
        (135_000, 1347.1568, 414.4463),
        (140_000, 1386.2821, 553.034),
        (145_000, 1585.8144, 678.5971),
        (150_000, 1426.0943, 782.1992),
        (155_000, 1485.7579, 816.0993),
        (160_000, 1335.9676, 526.1357),
        (165_000, 1727.0195, 949.2217),
        (170_000, 1815.7559, 780.9618),
        (175_000, 1679.7342, 608.2833),
        (180_000, 1755.6202, 908.6728),
        (185_000, 2060.7492, 798.1616),
        (190_000, 2071.3926, 891.6286),
        (195_000, 1972.7574, 905.4189),
        (200_000, 2132.5654, 977.1712),
    ),
    "halfcheetah": (  # HalfCheetah-v3
        (0, -2.027, 0.7352),
        (5_000, 10.1839, 23.2072),
        (10_000, 865.359, 486.562),
        (15_000, 1814.2922, 570.1082),
        (20_000, 2641.1068, 503.2532),
        (25_000, 3365.0157, 417.5691),
        (30_000, 3525.4369, 501.063),
        (35_000, 3983.1205, 279.2621),
        (40_000, 4326.9325, 213.1473),
        (45_000, 4605.0875, 269.9916),
        (50_000, 4747.2399, 345.0121),
        (55_000, 5083.2292, 380.5083),
        (60_000, 5316.2064, 330.2907),
        (65_000, 5496.9468, 418.5496),
        (70_000, 5586.9485, 540.2148),
        (75_000, 5851.4753, 371.89),
        (80_000, 5929.2037, 454.7962),
        (85_000, 6106.3958, 438.9816),
        (90_000, 6212.7888, 437.2369),
        (95_000, 6187.6082, 511.4287),
        (100_000, 6514.6227, 514.2304),
        (105_000, 6485.9809, 597.6332),
        (110_000, 6595.3192, 550.9856),
        (115_000, 6751.1698, 579.1543),
        (120_000, 6801.2745, 579.1199),
        (125_000, 7076.524, 669.0167),
        (130_000, 7088.5351, 673.049),
        (135_000, 7229.5772, 688.2214),
        (140_000, 7198.8854, 665.0043),
        (145_000, 7391.4168, 768.3948),
        (150_000, 7464.8962, 720.8476),
        (155_000, 7437.4415, 763.1268),
        (160_000, 7577.3921, 815.7664),
        (165_000, 7730.9681, 811.9207),
        (170_000, 7653.3391, 694.4047),
        (175_000, 7943.5144, 887.9127),
        (180_000, 7825.5208, 918.1944),
        (185_000, 8028.0037, 881.683),
        (190_000, 7877.3779, 762.8448),
        (195_000, 8144.8266, 1004.9139),
        (200_000, 8207.6336, 928.3063),
    ),
    "hopper": (  # Hopper-v3
        (0, 47.4556, 36.0937),
        (5_000, 275.7761, 59.4556),
        (10_000, 282.0917, 46.6158),
        (15_000, 336.6352, 45.5268),
        (20_000, 350.7719, 59.4432),
        (25_000, 393.867, 94.7212),
        (30_000, 493.3881, 205.9798),
        (35_000, 535.254, 222.4849),
        (40_000, 1029.6053, 793.9815),
        (45_000, 705.2766, 641.1404),
        (50_000, 851.1729, 372.5027),
        (55_000, 1182.7687, 721.6847),
        (60_000, 930.261, 399.8715),
        (65_000, 1422.8022, 1090.8127),
        (70_000, 1387.1509, 1089.2428),
        (75_000, 1521.7049, 1072.2036),
        (80_000, 1523.1274, 812.4802),
        (85_000, 1787.7521, 997.5609),
        (90_000, 1765.9052, 1035.8665),
        (95_000, 2079.4099, 1125.9664),
        (100_000, 2613.4592, 990.7811),
        (105_000, 2505.2093, 1014.8763),
        (110_000, 1882.9724, 903.8805),
        (115_000, 2251.6213, 1015.3205),
        (120_000, 2083.6742, 1150.8883),
        (125_000, 2037.7974, 1069.9703),
        (130_000, 2447.5492, 1104.9526),
        (135_000, 2434.7552, 991.8537),
        (140_000, 2720.4292, 934.5695),
        (145_000, 2583.2391, 1002.1706),
        (150_000, 2782.7663, 827.8125),
        (155_000, 2899.1311, 683.8363),
        (160_000, 2912.7348, 704.0542),
        (165_000, 2908.8992, 758.2095),
        (170_000, 2830.1015, 582.8762),
        (175_000, 3058.4135, 416.2314),
        (180_000, 2800.0321, 969.0885),
        (185_000, 2993.8637, 707.68),
        (190_000, 2382.8887, 1161.7076),
        (195_000, 3015.8118, 506.8064),
        (200_000, 3234.4156, 314.1973),
    ),
    "humanoid": (  # Humanoid-v3
        (0, 177.3211, 77.5947),
        (5_000, 283.2922, 15.6399),
        (10_000, 299.9204, 31.8772),
        (15_000, 435.967, 59.9478),
        (20_000, 449.6315, 50.5159),
        (25_000, 462.7225, 70.3407),
        (30_000, 527.9205, 62.4189),
        (35_000, 462.1104, 103.0253),
        (40_000, 502.3742, 89.7226),
        (45_000, 508.4995, 71.7847),
        (50_000, 573.9444, 99.0155),
        (55_000, 550.6721, 65.356),
        (60_000, 587.3824, 68.5067),
        (65_000, 601.1097, 87.2493),
        (70_000, 600.142, 60.1349),
        (75_000, 594.4696, 61.1347),
        (80_000, 590.6473, 71.1667),
        (85_000, 594.3895, 62.5243),
        (90_000, 618.5582, 86.4116),
        (95_000, 644.4827, 102.1717),
        (100_000, 629.4648, 106.451),
        (105_000, 633.1271, 68.8717),
        (110_000, 631.02, 71.8617),
        (115_000, 584.2877, 59.1475),
        (120_000, 597.579, 52.4268),
        (125_000, 622.5235, 61.8045),
        (130_000, 649.8092, 110.1307),
        (135_000, 613.3262, 75.1675),
        (140_000, 645.5737, 97.3171),
        (145_000, 586.2649, 59.617),
        (150_000, 625.0649, 79.55),
        (155_000, 637.2469, 83.9602),
        (160_000, 620.3274, 89.7393),
        (165_000, 619.5069, 67.1062),
        (170_000, 630.8656, 68.1679),
        (175_000, 682.0407, 99.4304),
        (180_000, 651.833, 60.173),
        (185_000, 658.08, 53.9764),
        (190_000, 680.1662, 106.7121),
        (195_000, 673.2192, 86.1533),
        (200_000, 767.8674, 306.8412),
    ),
    "swimmer": (  # Swimmer-v3
        (0, -7.7439, 16.8878),
        (5_000, 26.2874, 10.5409),
        (10_000, 25.6709, 8.9848),
        (15_000, 33.9519, 3.7954),
        (20_000, 38.1491, 2.543),
        (25_000, 39.3281, 2.1892),
        (30_000, 38.0972, 2.6193),
        (35_000, 39.4004, 1.9991),
        (40_000, 39.3137, 1.7931),
        (45_000, 38.8152, 1.6557),
        (50_000, 39.8585, 1.157),
        (55_000, 38.1781, 4.3822),
        (60_000, 37.8314, 4.4601),
        (65_000, 38.3241, 2.8926),
        (70_000, 39.395, 1.2904),
        (75_000, 39.6681, 1.354),
        (80_000, 40.2258, 1.3807),
        (85_000, 40.0252, 1.7095),
        (90_000, 39.8833, 1.071),
        (95_000, 37.6892, 4.3594),
        (100_000, 39.866, 1.494),
        (105_000, 40.3161, 1.5569),
        (110_000, 38.6797, 5.4645),
        (115_000, 39.4061, 1.0227),
        (120_000, 39.0564, 1.6067),
        (125_000, 41.2194, 1.1145),
        (130_000, 38.7546, 2.59),
        (135_000, 41.1758, 1.2852),
        (140_000, 40.7014, 1.3486),
        (145_000, 40.0147, 1.7605),
        (150_000, 40.3221, 1.2607),
        (155_000, 41.6201, 1.3049),
        (160_000, 41.3052, 1.0019),
        (165_000, 39.9204, 2.8623),
        (170_000, 40.9499, 1.6341),
        (175_000, 42.1303, 1.635),
        (180_000, 41.3798, 1.3728),
        (185_000, 41.6402, 1.3664),
        (190_000, 41.8703, 1.0121),
        (195_000, 41.686, 2.8906),
        (200_000, 41.7817, 0.8474),
    ),
    "walker2d": (  # Walker2d-v3
        (0, 6.442, 12.7772),
        (5_000, 384.2125, 91.1295),
        (10_000, 311.4904, 92.4643),
        (15_000, 341.5975, 61.666),
        (20_000, 332.6649, 99.9772),
        (25_000, 381.5184, 156.4263),
        (30_000, 396.9952, 101.5131),
        (35_000, 428.0762, 112.466),
        (40_000, 538.719, 425.0536),
        (45_000, 613.2465, 440.9208),
        (50_000, 695.3813, 413.9007),
        (55_000, 867.3111, 429.0798),
        (60_000, 821.5923, 626.4058),
        (65_000, 724.8063, 548.7352),
        (70_000, 869.673, 605.068),
        (75_000, 887.8157, 670.5667),
        (80_000, 842.7084, 595.3462),
        (85_000, 934.1402, 445.0447),
        (90_000, 843.5223, 707.1264),
        (95_000, 1145.929, 693.5426),
        (100_000, 1305.246, 795.0855),
        (105_000, 982.3865, 559.6456),
        (110_000, 1438.316, 897.6387),
        (115_000, 1684.2845, 980.9338),
        (120_000, 1576.6348, 973.7348),
        (125_000, 1635.8776, 1040.758),
        (130_000, 1260.5658, 771.0769),
        (135_000, 1870.8694, 948.5044),
        (140_000, 1804.7263, 1012.1946),
        (145_000, 1733.9893, 1143.5478),
        (150_000, 1981.0082, 1216.2987),
        (155_000, 2061.6254, 1290.993),
        (160_000, 2199.765, 1182.4863),
        (165_000, 2295.9367, 1338.0812),
        (170_000, 2374.0511, 1184.7679),
        (175_000, 2230.0855, 1255.8343),
        (180_000, 2253.6271, 1346.9405),
        (185_000, 2155.7215, 1412.9678),
        (190_000, 2449.8378, 1421.6176),
        (195_000, 1713.5455, 1319.3),
        (200_000, 2530.5179, 1300.063),
    ),
}


def _curve_at(task: str, step: float, unit: str) -> tuple[float, float]:
    """(mean, std) of `task`'s SAC curve at env_step `step`, linear between the 5,000-step rows."""
    rows = SAC_CURVES.get(task.lower())
    if rows is None:
        raise ValueError(f"no published SAC curve for task {task!r}; known: {', '.join(SAC_CURVES)}")
    if not (math.isfinite(step) and 0 <= step <= SAC_CURVE_MAX_STEP):
        raise ValueError(
            f"{unit} {step!r} is outside the published SAC curve's env_step 0..{SAC_CURVE_MAX_STEP:,}"
        )
    i = min(int(step // SAC_CURVE_STEP), len(rows) - 2)
    (x0, mean0, std0), (x1, mean1, std1) = rows[i], rows[i + 1]
    w = (step - x0) / (x1 - x0)
    # (1 - w) * a + w * b returns a row's own value exactly at w = 0 and at w = 1.
    return (1 - w) * mean0 + w * mean1, (1 - w) * std0 + w * std1


def sac_at_transitions(task: str, transitions: float) -> tuple[float, float]:
    """Published SAC's (mean, std over 10 seeds) test return on `task` after as many environment
    transitions as a run here has collected after its warm-up (`transitions`, per seed).

    `transitions` is read directly as SAC's env_step: the paper's axis counts the transitions in
    the budget, those collected after the uniform-random warm-up, and SAC's env_step likewise
    leaves out its own SAC_START_STEPS random transitions. Linear interpolation between the
    published rows, every 5,000 steps; the std is interpolated the same way, an approximation
    (the spread over seeds between two evaluations was not measured).

    Raises ValueError for a task without a curve (case-insensitive names as in `SCORES`) and for
    `transitions` outside 0..SAC_CURVE_MAX_STEP.
    """
    return _curve_at(task, transitions, "transitions")


def sac_at_updates(task: str, updates: float) -> tuple[float, float]:
    """Published SAC's (mean, std over 10 seeds) test return on `task` after as many gradient
    updates as a run here has made (`updates`, per seed).

    SAC makes one update per transition after its random start steps (step_per_collect = 1,
    update_per_step = 1) and its env_step counts only those transitions, so U updates is
    env_step U: the value equals `sac_at_transitions(task, updates)`, and what differs is the
    quantity read off a run here (its updates, not its transitions). Linear interpolation between
    the rows; the std is interpolated too, an approximation.

    Raises ValueError for a task without a curve and for `updates` outside 0..SAC_CURVE_MAX_STEP.
    """
    return _curve_at(task, updates, "updates")
