"""Walker2d-v4: walk forward in the plane on two legs; terminates when unhealthy."""

from __future__ import annotations

import dataclasses

from envs.base import TaskConfig
from envs.model import SolverCaps
from envs.tasks.planar_walker import PlanarWalker


@dataclasses.dataclass(frozen=True)
class Walker2dConfig(TaskConfig):
    forward_reward_weight: float = 1.0
    ctrl_cost_weight: float = 1e-3
    healthy_reward: float = 1.0
    terminate_when_unhealthy: bool = True
    healthy_z_range: tuple[float, float] = (0.8, 2.0)
    healthy_angle_range: tuple[float, float] = (-1.0, 1.0)
    reset_noise_scale: float = 5e-3
    exclude_current_positions_from_observation: bool = True


class Walker2d(PlanarWalker):
    """Port of gymnasium.envs.mujoco.walker2d_v4.Walker2dEnv (health: z and angle only)."""

    name = "walker2d"
    gym_id = "Walker2d-v4"
    xml_file = "walker2d.xml"
    frame_skip = 4
    faithful_caps = SolverCaps(iterations=12, ls_iterations=6)
    config_cls = Walker2dConfig
    config: Walker2dConfig
