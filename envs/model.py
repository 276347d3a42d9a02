"""Loading the Gymnasium MJCF files and applying the few changes MJX forces.

Every change to the model is made here, programmatically, on the compiled
`mujoco.MjModel`, so the shipped XML files stay byte-identical to Gymnasium's.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import mujoco

ASSETS_DIR = Path(__file__).resolve().parent / "assets"


PHYSICS_TIERS = ("faithful", "gymnasium", "fast", "warp")


@dataclass(frozen=True)
class SolverCaps:
    """Caps of the Newton solver: `opt.iterations` and `opt.ls_iterations`."""

    iterations: int
    ls_iterations: int


# The `fast` tier: one Newton iteration with a short line search and no Euler damping, the
# settings MJX's own examples train with. Not Gymnasium's physics: envs/README.md measures it.
FAST_CAPS = SolverCaps(iterations=1, ls_iterations=4)


@dataclass(frozen=True)
class PhysicsOptions:
    """Solver settings of one task.

    Attributes:
      tier: "faithful" (default): Gymnasium's physics with the task's `faithful_caps`, caps
        that no measured state reaches, so rollouts are bit-identical to "gymnasium" (the XML's
        caps, 100 and 50). "fast": `FAST_CAPS` and no Euler damping, for training only.
      solver_iterations: `opt.iterations`; a number overrides the tier's cap.
      ls_iterations: `opt.ls_iterations` (Newton/CG line search); a number overrides the tier's.
      c_contact_frames: orient plane-capsule friction pyramids as MuJoCo C does
        (see envs/contact_frames.py); False keeps MJX's own frames.
    """

    tier: str = "faithful"
    solver_iterations: int | None = None
    ls_iterations: int | None = None
    c_contact_frames: bool = True

    def __post_init__(self) -> None:
        if self.tier not in PHYSICS_TIERS:
            raise ValueError(f"unknown physics tier {self.tier!r}; choices: {', '.join(PHYSICS_TIERS)}")
        for field in ("solver_iterations", "ls_iterations"):
            value = getattr(self, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{field} must be a positive int or None, got {value!r}")


def load_mj_model(xml_file: str) -> mujoco.MjModel:
    """Compile one of the shipped XML files into the model MuJoCo C makes of it.

    HalfCheetah's `<compiler settotalmass=...>` is deprecated in MuJoCo 3.17, whose parser warns
    on every load. It is applied the way that warning recommends instead: the attribute is
    dropped from the parsed text and `mj_setTotalmass` + `mj_setConst` run on the compiled
    model, which gives exactly the same model (every numeric field equal; tested).
    """
    path = ASSETS_DIR / xml_file
    if not path.is_file():
        raise FileNotFoundError(f"missing model file {path}")
    root = ET.fromstring(path.read_text())
    compiler = root.find("compiler")
    total = None if compiler is None else compiler.attrib.pop("settotalmass", None)
    if total is None:
        return mujoco.MjModel.from_xml_path(str(path))
    model = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
    mujoco.mj_setTotalmass(model, float(total))
    mujoco.mj_setConst(model, mujoco.MjData(model))
    return model


def mjx_compatible(model: mujoco.MjModel, physics: PhysicsOptions, faithful: SolverCaps) -> mujoco.MjModel:
    """Return a copy of `model` that MJX can run, with the requested solver settings.

    The one change every tier makes: MJX has no PGS solver (Humanoid's XML asks for it), so
    PGS becomes Newton. Both solve the same convex constraint problem; see envs/README.md for
    the measured effect. `faithful` is the task's never-binding caps (the "faithful" tier).
    """
    out = copy.deepcopy(model)  # never mutate the caller's model
    if out.opt.solver == mujoco.mjtSolver.mjSOL_PGS:
        out.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    caps = {"faithful": faithful, "warp": faithful, "fast": FAST_CAPS}.get(physics.tier)
    if caps is not None:
        out.opt.iterations = min(caps.iterations, out.opt.iterations)
        out.opt.ls_iterations = min(caps.ls_iterations, out.opt.ls_iterations)
    if physics.tier == "fast":
        out.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_EULERDAMP
    if physics.solver_iterations is not None:
        out.opt.iterations = physics.solver_iterations
    if physics.ls_iterations is not None:
        out.opt.ls_iterations = physics.ls_iterations
    return out
