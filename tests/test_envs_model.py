"""The shipped XML files compile into exactly MuJoCo C's models, without deprecation noise."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from envs.model import ASSETS_DIR, load_mj_model

XMLS = ["ant.xml", "half_cheetah.xml", "hopper.xml", "humanoid.xml", "swimmer.xml", "walker2d.xml"]


@pytest.mark.parametrize("xml", XMLS)
def test_model_equals_mujoco_c_compile_of_the_xml(xml: str, capfd) -> None:
    model = load_mj_model(xml)
    assert "deprecated" not in "".join(capfd.readouterr())  # HalfCheetah's settotalmass
    reference = mujoco.MjModel.from_xml_path(str(ASSETS_DIR / xml))
    compared = 0
    for name in dir(reference):
        value = getattr(reference, name) if not name.startswith("_") else None
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(model, name), value, err_msg=name)
            compared += 1
    assert compared > 100
    if xml == "half_cheetah.xml":  # the total mass the XML asks for
        assert np.isclose(model.body_mass.sum(), 14.0)


def test_importing_and_making_a_task_prints_nothing() -> None:
    """No note about MJX's optional Warp backend, no deprecation warning: a user's first
    output is the trainer's own."""
    import subprocess
    import sys

    code = "import envs; envs.make('halfcheetah'); envs.make('hopper')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == "", (proc.stdout, proc.stderr)
