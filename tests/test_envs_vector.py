"""The batched layer: jit/vmap/scan, auto-reset, episode statistics, NaN guards.

Swimmer (the cheapest task) with episode_length=5 so truncations happen quickly;
each function is compiled once for the module and traces are counted.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs import VecEnv, VecState

N = 64  # small: the compile, not the batch, is the cost; 64 still spans every reset branch
EPISODE = 5


class Counted:
    """jit a function and count its Python-side traces."""

    def __init__(self, fn: Any) -> None:
        self.traces = 0

        def counted(*args: Any) -> Any:
            self.traces += 1
            return fn(*args)

        self.jitted = jax.jit(counted)

    def __call__(self, *args: Any) -> Any:
        return self.jitted(*args)


@pytest.fixture(scope="module")
def vec() -> dict[str, Any]:
    env = envs.make("swimmer", episode_length=EPISODE)
    venv = VecEnv(env, N)
    return {
        "env": env,
        "venv": venv,
        "reset": Counted(venv.reset),
        "step": Counted(venv.step),
        "plain_step": Counted(jax.vmap(env.step)),  # no auto-reset, for reference
        "reset_all": jax.jit(jax.vmap(env.reset)),  # every env's own reset, for reference
    }


def _actions(seed: int, n: int = N) -> jax.Array:
    return jax.random.uniform(jax.random.PRNGKey(seed), (n, 2), minval=-1.0, maxval=1.0)


def _with_steps(vs: VecState, steps: np.ndarray) -> VecState:
    info = dict(vs.env_state.info, steps=jnp.asarray(steps, jnp.int32))
    return vs.replace(env_state=vs.env_state.replace(info=info))


def test_reset_and_step_shapes_trace_once(vec: dict[str, Any]) -> None:
    vs = vec["reset"](jax.random.PRNGKey(0))
    assert vs.obs.shape == (N, 8) and vs.obs.dtype == jnp.float32
    assert vs.final_obs.shape == (N, 8) and vs.reward.shape == (N,)
    # fresh, distinct reset noise per env
    assert len(np.unique(np.asarray(vs.obs[:, 0]))) == N
    for i in range(4):
        vs = vec["step"](vs, _actions(i))
    vec["reset"](jax.random.PRNGKey(1))
    assert vec["reset"].traces == 1
    assert vec["step"].traces == 1
    assert np.isfinite(np.asarray(vs.obs)).all() and np.isfinite(np.asarray(vs.reward)).all()
    np.testing.assert_array_equal(np.asarray(vs.env_state.info["steps"]), 4)
    assert int(vs.episodes) == 0 and int(vs.nan_resets) == 0


def test_staggered_truncation_autoreset_and_episode_stats(vec: dict[str, Any]) -> None:
    vs = vec["reset"](jax.random.PRNGKey(2))
    offset = np.arange(N) % EPISODE  # env i has already taken offset[i] steps
    vs = _with_steps(vs, offset)
    done_at = np.full(N, -1)
    for t in range(EPISODE):
        prev = vs
        a = _actions(10 + t)
        vs = vec["step"](prev, a)
        ref = vec["plain_step"](prev.env_state, a)
        done = np.asarray(vs.ep_done) > 0
        # the transition itself is the un-reset one
        np.testing.assert_array_equal(np.asarray(vs.final_obs), np.asarray(ref.obs))
        np.testing.assert_array_equal(np.asarray(vs.reward), np.asarray(ref.reward))
        np.testing.assert_array_equal(np.asarray(vs.truncated), np.asarray(ref.truncated))
        # per-env auto-reset: fresh obs where done, untouched elsewhere
        obs, final = np.asarray(vs.obs), np.asarray(vs.final_obs)
        np.testing.assert_array_equal(obs[~done], final[~done])
        assert (np.abs(obs[done] - final[done]).max(axis=1) > 0).all()
        steps = np.asarray(vs.env_state.info["steps"])
        np.testing.assert_array_equal(steps[done], 0)
        expected_done = offset + t + 1 == EPISODE
        np.testing.assert_array_equal(done, expected_done)
        np.testing.assert_array_equal(np.asarray(vs.truncated), expected_done.astype(np.float32))
        np.testing.assert_array_equal(np.asarray(vs.terminated), 0.0)
        done_at[done] = t
    assert (done_at >= 0).all() and len(np.unique(done_at)) == EPISODE
    assert int(vs.episodes) == N


def test_episode_return_and_length_on_full_episodes(vec: dict[str, Any]) -> None:
    vs = vec["reset"](jax.random.PRNGKey(3))
    total = np.zeros(N)
    ctrl_sum = np.zeros(N)
    for t in range(EPISODE):
        vs = vec["step"](vs, _actions(20 + t))
        total += np.asarray(vs.reward, np.float64)
        ctrl_sum += np.asarray(vs.metrics["reward_ctrl"], np.float64)
        if t < EPISODE - 1:
            np.testing.assert_allclose(np.asarray(vs.ep_running_return), total, rtol=1e-5)
            np.testing.assert_array_equal(np.asarray(vs.ep_running_length), t + 1)
            np.testing.assert_array_equal(np.asarray(vs.ep_done), 0.0)
            np.testing.assert_array_equal(np.asarray(vs.ep_return), 0.0)
    np.testing.assert_array_equal(np.asarray(vs.ep_done), 1.0)
    np.testing.assert_allclose(np.asarray(vs.ep_return), total, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(vs.ep_length), EPISODE)
    np.testing.assert_allclose(np.asarray(vs.ep_metrics["reward_ctrl"]), ctrl_sum, rtol=1e-5)
    assert (ctrl_sum < 0).all()
    # running sums restart with the new episode
    np.testing.assert_array_equal(np.asarray(vs.ep_running_return), 0.0)
    np.testing.assert_array_equal(np.asarray(vs.ep_running_length), 0)
    assert int(vs.episodes) == N


def test_nonfinite_physics_resets_env(vec: dict[str, Any]) -> None:
    vs = vec["reset"](jax.random.PRNGKey(4))
    bad = np.zeros(N, bool)
    bad[[0, 7, 50]] = True
    qvel = np.asarray(vs.env_state.data.qvel).copy()
    qvel[0, 1] = np.nan
    qvel[7, 0] = np.inf
    qvel[50, :] = np.nan
    data = vs.env_state.data.replace(qvel=jnp.asarray(qvel))
    vs = vs.replace(env_state=vs.env_state.replace(data=data))
    vs = vec["step"](vs, _actions(30))
    assert int(vs.nan_resets) == 3
    for x in (vs.obs, vs.final_obs, vs.reward, vs.env_state.data.qpos, vs.env_state.data.qvel):
        assert np.isfinite(np.asarray(x)).all()
    np.testing.assert_array_equal(np.asarray(vs.terminated) > 0, bad)
    np.testing.assert_array_equal(np.asarray(vs.reward)[bad], 0.0)
    np.testing.assert_array_equal(np.asarray(vs.final_obs)[bad], 0.0)
    np.testing.assert_array_equal(np.asarray(vs.env_state.info["steps"])[bad], 0)
    np.testing.assert_array_equal(np.asarray(vs.env_state.info["steps"])[~bad], 1)
    assert int(vs.episodes) == 3
    vs = vec["step"](vs, _actions(31))  # the reset envs step normally again
    assert int(vs.nan_resets) == 3 and np.isfinite(np.asarray(vs.obs)).all()


def test_nonfinite_actions_are_zeroed_and_counted(vec: dict[str, Any]) -> None:
    vs = vec["reset"](jax.random.PRNGKey(5))
    a = np.asarray(_actions(40)).copy()
    a[3, 0] = np.nan
    a[4, 1] = np.inf
    a[5, :] = -np.inf
    out = vec["step"](vs, jnp.asarray(a))
    assert int(out.sanitised_actions) == 3
    clean = a.copy()
    clean[~np.isfinite(clean)] = 0.0
    ref = vec["step"](vs, jnp.asarray(clean))
    np.testing.assert_array_equal(np.asarray(out.obs), np.asarray(ref.obs))
    np.testing.assert_array_equal(np.asarray(out.reward), np.asarray(ref.reward))
    assert int(ref.sanitised_actions) == 0
    assert np.isfinite(np.asarray(out.reward)).all()


@pytest.mark.slow  # a compile of its own; the trainers' chunks scan over VecEnv.step too
def test_usable_inside_scan(vec: dict[str, Any]) -> None:
    venv: VecEnv = vec["venv"]
    actions = jnp.stack([_actions(50 + t) for t in range(7)])

    @jax.jit
    def rollout(vs: VecState, actions: jax.Array) -> tuple[VecState, jax.Array]:
        def body(carry: VecState, a: jax.Array) -> tuple[VecState, jax.Array]:
            carry = venv.step(carry, a)
            return carry, carry.reward

        return jax.lax.scan(body, vs, actions)

    vs0 = vec["reset"](jax.random.PRNGKey(6))
    vs, rewards = rollout(vs0, actions)
    manual = vs0
    for t in range(7):
        manual = vec["step"](manual, actions[t])
    np.testing.assert_allclose(np.asarray(vs.obs), np.asarray(manual.obs), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(rewards[-1]), np.asarray(manual.reward), atol=1e-5)
    assert int(vs.episodes) == N  # 7 steps with episode_length 5: one episode each


def _reset_all_reference(reset_all: Any, nxt: Any, done: np.ndarray) -> Any:
    """What auto-reset means: every ended env restarts from a reset drawn with its own key."""
    fresh = reset_all(nxt.info["rng"])
    mask = jnp.asarray(done)
    return jax.tree.map(
        lambda a, b: jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b), fresh, nxt
    )


@pytest.mark.parametrize("ended", [0, 3, N // 8, N // 8 + 1, 40])
def test_reset_of_some_envs_equals_reset_of_all(vec: dict[str, Any], ended: int) -> None:
    """Each branch of the reset switch (none, gathered up to the capacity, all) gives what
    resetting every ended env would: 0 and 3 ended use the first two, N//8+1 and 40 the last."""
    venv: VecEnv = vec["venv"]
    assert venv.reset_capacity == N // 8
    vs = vec["reset"](jax.random.PRNGKey(7))
    offset = np.zeros(N, int)
    rows = np.random.default_rng(ended).choice(N, ended, replace=False)
    offset[rows] = EPISODE - 1  # these envs end on the next step
    vs = _with_steps(vs, offset)
    a = _actions(60)
    out = vec["step"](vs, a)
    done = np.zeros(N, bool)
    done[rows] = True
    np.testing.assert_array_equal(np.asarray(out.ep_done) > 0, done)
    ref = _reset_all_reference(vec["reset_all"], vec["plain_step"](vs.env_state, a), done)
    # Equal up to float32 rounding, relative to each field's scale: XLA may order a
    # batch-of-k computation differently (a wrong reset would differ by O(1)).
    for got, want in zip(jax.tree.leaves(out.env_state), jax.tree.leaves(ref), strict=True):
        want = np.asarray(want)
        scale = float(np.abs(want).max()) if want.size and want.dtype.kind == "f" else 0.0
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6 * max(1.0, scale))


def test_seed_vmapped_step_keeps_the_reset_a_branch(vec: dict[str, Any]) -> None:
    """Under vmap over seeds a per-seed branch choice becomes a select that runs every
    branch each step; naming the vmap axis makes the choice once for all seeds."""
    # The branch is VecEnv's, whatever the task: an analytic probe task traces in
    # milliseconds where an MJX step takes seconds. Shapes suffice: nothing is compiled.
    from envs.probes import ProbeEnv

    env = ProbeEnv("two_step")
    vs = jax.eval_shape(jax.vmap(VecEnv(env, 8).reset), jax.random.split(jax.random.PRNGKey(8), 2))
    a = jax.ShapeDtypeStruct((2, 8, env.action_size), jnp.float32)

    def top_level_primitives(venv: VecEnv, **vmap_kw: Any) -> set[str]:
        jaxpr = jax.make_jaxpr(jax.vmap(venv.step, **vmap_kw))(vs, a)
        return {eqn.primitive.name for eqn in jaxpr.jaxpr.eqns}

    named = top_level_primitives(VecEnv(env, 8, batch_axis="seed"), axis_name="seed")
    assert "cond" in named
    unnamed = top_level_primitives(VecEnv(env, 8))
    assert "cond" not in unnamed  # the failure mode the axis name exists for
