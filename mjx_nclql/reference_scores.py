"""Per-task scores that normalise returns for aggregation over tasks (`report`).

`random`: mean return of uniform random actions on Gymnasium's -v4 task, measured with
`python -m envs.fidelity --env all --episodes 200` (the table in envs/README.md).

`reference`: SAC's mean evaluation return over 10 seeds at 1M environment steps on the -v3
task (same model, reward and termination as -v4, which moved to the new MuJoCo bindings),
from Tianshou's MuJoCo benchmark data: thu-ml/tianshou,
examples/mujoco/benchmark/<Task>-v3/sac/test_rew_10seeds.csv, row env_step = 1000000.
A task without both scores is left out of the aggregate.
"""

from __future__ import annotations

import dataclasses

SAC_SOURCE = "Tianshou MuJoCo benchmark, SAC, 10 seeds, -v3, env_step 1e6 (test_rew_10seeds.csv)"


@dataclasses.dataclass(frozen=True)
class TaskScores:
    random: float | None
    reference: float | None
    source: str = SAC_SOURCE


SCORES: dict[str, TaskScores] = {
    "ant": TaskScores(random=-62.19, reference=5714.3),
    "halfcheetah": TaskScores(random=-275.49, reference=12121.9),
    "hopper": TaskScores(random=19.01, reference=3531.6),
    "humanoid": TaskScores(random=120.65, reference=5415.6),
    "walker2d": TaskScores(random=3.02, reference=4960.9),
    "swimmer": TaskScores(random=-0.55, reference=43.6),
}
