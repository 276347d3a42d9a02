"""The "warp" physics tier: MuJoCo Warp's float32 step through MJX, batched and scanned by
`VecEnv` (auto-reset included), against MuJoCo C one env step at a time (heavy tier: Warp
compiles its kernels on first use)."""

from __future__ import annotations

import jax
import mujoco
import numpy as np
import pytest

import envs
from envs.vector import VecEnv

pytest.importorskip("warp", reason="the warp extra: pip install -e '.[warp]'")

NUM_ENVS, STEPS = 4, 40


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hopper", "halfcheetah"])
def test_warp_steps_agree_with_mujoco_c(name: str) -> None:
    env = envs.make(name, physics="warp", warp_worlds=NUM_ENVS)
    venv = VecEnv(env, NUM_ENVS, reset_capacity=1)  # all three reset branches are traced
    acts = jax.random.uniform(jax.random.PRNGKey(1), (STEPS, NUM_ENVS, env.action_size), minval=-1, maxval=1)

    def run(key: jax.Array, acts: jax.Array):
        def body(vs, a):
            before = vs.env_state.data
            vs = venv.step(vs, a)
            return vs, (before.qpos, before.qvel, vs.final_obs, vs.ep_done, vs.reward)

        return jax.lax.scan(body, venv.reset(key), acts)

    final, (qpos, qvel, obs, done, reward) = jax.jit(run)(jax.random.PRNGKey(0), acts)
    assert np.all(np.isfinite(np.asarray(reward))) and int(final.nan_resets) == 0
    # One env step of MuJoCo C (float64) from each state Warp stepped from.
    m = envs.make(name, physics="gymnasium").mj_model
    d = mujoco.MjData(m)
    gaps = []
    for t in range(STEPS):
        for i in range(NUM_ENVS):
            d.qpos[:], d.qvel[:] = np.asarray(qpos[t, i]), np.asarray(qvel[t, i])
            d.ctrl[:] = env.rescale_action(np.asarray(acts[t, i]))
            for _ in range(env.frame_skip):
                mujoco.mj_step(m, d)
            c_obs = np.concatenate([d.qpos[env._n_excluded_qpos() :], d.qvel])
            if name == "hopper":
                c_obs[m.nq - 1 :] = np.clip(c_obs[m.nq - 1 :], -10, 10)
            gaps.append(np.max(np.abs(c_obs - np.asarray(obs[t, i]))))
    # float32 round-off over frame_skip steps; qvel of a contact step is the least exact
    assert np.median(gaps) < 1e-5 and np.max(gaps) < 1e-2, (np.median(gaps), np.max(gaps))
