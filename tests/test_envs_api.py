"""Registry, options and static properties: no MJX compilation needed."""

from __future__ import annotations

import warnings

import gymnasium as gym
import jax
import jax.numpy as jnp
import mujoco
import numpy as np
import pytest

import envs
from envs.model import ASSETS_DIR

GYM_IDS = {
    "ant": "Ant-v4",
    "halfcheetah": "HalfCheetah-v4",
    "hopper": "Hopper-v4",
    "humanoid": "Humanoid-v4",
    "walker2d": "Walker2d-v4",
    "swimmer": "Swimmer-v4",
}


def _gym(gym_id: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make(gym_id, **kwargs).unwrapped


def test_names_and_aliases() -> None:
    assert sorted(envs.names()) == sorted(GYM_IDS)
    for short, gym_id in GYM_IDS.items():
        for alias in (short, short.upper(), gym_id, gym_id.lower(), gym_id.upper()):
            assert envs.make(alias).name == short


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown env 'Pendulum-v1'") as exc:
        envs.make("Pendulum-v1")
    for short, gym_id in GYM_IDS.items():
        assert short in str(exc.value) and gym_id in str(exc.value)


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['ctrl_weight'\]") as exc:
        envs.make("hopper", ctrl_weight=1.0)
    assert "ctrl_cost_weight" in str(exc.value) and "solver_iterations" in str(exc.value)
    with pytest.raises(ValueError, match="episode_length"):
        envs.make("hopper", episode_length=0)
    with pytest.raises(ValueError, match="solver_iterations"):
        envs.make("hopper", solver_iterations=0)


@pytest.mark.parametrize("name", sorted(GYM_IDS))
def test_sizes_dt_and_defaults_match_gymnasium(name: str) -> None:
    env = envs.make(name)
    g = _gym(GYM_IDS[name])
    assert env.observation_size == g.observation_space.shape[0]
    assert env.action_size == g.action_space.shape[0]
    assert env.dt == pytest.approx(g.dt, abs=1e-15)
    assert env.episode_length == 1000
    assert env.frame_skip == g.frame_skip
    # The shipped XML is Gymnasium's file, byte for byte.
    with open(g.fullpath, "rb") as f:
        assert (ASSETS_DIR / env.xml_file).read_bytes() == f.read()
    variant = envs.make(name, exclude_current_positions_from_observation=False)
    g2 = _gym(GYM_IDS[name], exclude_current_positions_from_observation=False)
    assert variant.observation_size == g2.observation_space.shape[0]


def test_ant_contact_force_observation_size() -> None:
    env = envs.make("ant", use_contact_forces=True)
    assert env.observation_size == 27 + 84
    assert env.needs_cfrc_ext and not envs.make("ant").needs_cfrc_ext


def test_forced_model_changes() -> None:
    humanoid = envs.make("humanoid")
    assert humanoid.xml_model.opt.solver == mujoco.mjtSolver.mjSOL_PGS
    assert humanoid.mj_model.opt.solver == mujoco.mjtSolver.mjSOL_NEWTON
    fast = envs.make("ant", solver_iterations=4, ls_iterations=8)
    assert (fast.mj_model.opt.iterations, fast.mj_model.opt.ls_iterations) == (4, 8)
    xml = envs.make("ant", physics="gymnasium")
    assert (xml.mj_model.opt.iterations, xml.mj_model.opt.ls_iterations) == (100, 50)


def _solver(env: envs.MjxEnv) -> tuple[int, int, bool]:
    opt = env.mj_model.opt
    return (
        int(opt.iterations),
        int(opt.ls_iterations),
        bool(opt.disableflags & mujoco.mjtDisableBit.mjDSBL_EULERDAMP),
    )


@pytest.mark.parametrize("name", sorted(GYM_IDS))
def test_physics_tiers_set_the_solver(name: str) -> None:
    """faithful (default): the task's caps, below the XML's; gymnasium: the XML's own; fast: one
    Newton iteration, a 4-step line search and no Euler damping; a number overrides the tier."""
    xml = envs.make(name, physics="gymnasium")
    assert _solver(xml)[:2] == (int(xml.xml_model.opt.iterations), int(xml.xml_model.opt.ls_iterations))
    caps = type(xml).faithful_caps
    assert _solver(envs.make(name)) == (caps.iterations, caps.ls_iterations, False)
    assert (
        caps.iterations < xml.mj_model.opt.iterations and caps.ls_iterations < xml.mj_model.opt.ls_iterations
    )
    assert _solver(envs.make(name, physics="fast")) == (1, 4, True)
    assert _solver(envs.make(name, physics="fast", ls_iterations=6))[:2] == (1, 6)
    assert xml.xml_model.opt.disableflags == envs.make(name).mj_model.opt.disableflags


def test_bad_physics_options_are_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"unknown physics tier 'quick'; choices: faithful, gymnasium, fast, warp"
    ):
        envs.make("hopper", physics="quick")
    with pytest.raises(ValueError, match="warp_worlds applies only to physics='warp'"):
        envs.make("hopper", warp_worlds=4)
    with pytest.raises(ValueError, match="physics='warp' needs warp_worlds"):
        envs.make("hopper", physics="warp")
    with pytest.raises(ValueError, match=r"cannot give humanoid's contact forces \(cfrc_ext\)"):
        envs.make("humanoid", physics="warp", warp_worlds=4)


def test_action_rescaling_to_ctrlrange() -> None:
    env = envs.make("humanoid")
    a = jnp.array([-1.0, 0.0, 1.0, 0.5] + [0.25] * 13)
    ctrl = np.asarray(env.rescale_action(a))
    np.testing.assert_allclose(ctrl[:4], [-0.4, 0.0, 0.4, 0.2], rtol=1e-6)
    cheetah = envs.make("halfcheetah")
    a = jnp.linspace(-1.0, 1.0, 6)
    np.testing.assert_array_equal(np.asarray(cheetah.rescale_action(a)), np.asarray(a))


def test_wrong_action_shape_fails_at_trace_time() -> None:
    env = envs.make("swimmer")
    state = jax.eval_shape(env.reset, jax.random.PRNGKey(0))
    bad = jax.ShapeDtypeStruct((3,), jnp.float32)
    with pytest.raises(ValueError, match=r"swimmer: action must have shape \(2,\), got \(3,\)"):
        jax.jit(env.step).trace(state, bad)
    venv = envs.VecEnv(env, 4)
    vstate = jax.eval_shape(venv.reset, jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"actions must have shape \(4, 2\), got \(2,\)"):
        jax.jit(venv.step).trace(vstate, jax.ShapeDtypeStruct((2,), jnp.float32))


def test_bench_rejects_unknown_env_and_reports_versions() -> None:
    from envs import bench

    with pytest.raises(ValueError, match="unknown env 'nope'"):
        bench.main(["--env", "nope", "--num-envs", "2", "--steps", "1"])
    info = bench.environment()
    assert info["mujoco"] == mujoco.__version__ and info["jax"] == jax.__version__
