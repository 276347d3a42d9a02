"""`envs.BraxEnv` under Brax's own training wrappers: our env's numbers, Brax's done semantics.

Hopper, because random actions make it fall within ~20 steps: with 20-step episodes a 60-step
rollout of 8 envs has both falls (done, truncation 0) and time-limit ends (done, truncation 1),
and auto-resets after both. Each rollout, and our env's own `reset` and `step` used as the
reference, is compiled once per module, all in parallel: MJX compiles dominate this file's cost.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

import brax.envs.base as brax_base
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from brax.envs.wrappers import training

import envs
from envs.brax_adapter import BraxEnv, to_brax

B, T, L = 8, 60, 20  # envs, steps, episode length
KEY = jax.random.PRNGKey(0)
ACTIONS = jax.random.uniform(jax.random.PRNGKey(1), (T, B, 3), minval=-1.0, maxval=1.0)
# The reference is our env's own reset and step, compiled as separate programs and batched as in
# the rollouts; the comparison is bit for bit. (The adapter does no arithmetic; should XLA ever
# round a differently shaped program differently, the failure shows as differences of a few ulps.)

pytestmark = pytest.mark.slow


def _our_state(env: envs.MjxEnv, s: brax_base.State) -> envs.State:
    """Our env's State at the pipeline state a wrapped Brax step starts from (after auto-reset)."""
    steps = jnp.where(s.done > 0, 0, s.info["steps"]).astype(jnp.int32)  # AutoResetWrapper's restart
    zero = jnp.zeros_like(s.done)
    return envs.State(
        data=s.pipeline_state,
        obs=s.obs,
        reward=s.reward,
        terminated=zero,
        truncated=zero,
        metrics={k: s.metrics[k] for k in env.metric_names},
        info={"steps": steps, "rng": s.info["rng"], "nonfinite": zero, "bad_action": zero},
    )


def _rollout(wrapped: brax_base.Env, env: envs.MjxEnv) -> Callable[..., Any]:
    """Batched reset and `T` steps of a Brax-wrapped `BraxEnv(env)`, recording each step's start."""

    def run(key: jax.Array, actions: jax.Array) -> Any:
        first = wrapped.reset(jax.random.split(key, B))

        def body(s: brax_base.State, a: jax.Array) -> Any:
            start = _our_state(env, s)
            s = wrapped.step(s, a)
            out = {"obs": s.obs, "reward": s.reward, "done": s.done, "qpos": s.pipeline_state.qpos}
            out.update(truncation=s.info["truncation"], steps=s.info["steps"], start=start)
            return s, out

        last, out = jax.lax.scan(body, first, actions)
        out.update(first_obs=first.obs, first_qpos=first.pipeline_state.qpos)
        return out, last

    return run


def run_all() -> dict[str, Any]:
    """`brax`: `training.wrap`, whose EpisodeWrapper owns the time limit (our env's 5-step limit
    must be ignored); `env`: VmapWrapper + AutoResetWrapper only, our env's limit L. `ref_*`: our
    env's own reset, and its step from each state the rollout stepped from, with the same action."""
    brax_mode, env = envs.make("hopper", episode_length=5), envs.make("hopper", episode_length=L)
    keys = jax.random.split(KEY, B)
    start = jax.eval_shape(jax.vmap(jax.vmap(env.reset)), jnp.zeros((T, B, 2), jnp.uint32))
    fns = {
        "brax": (
            _rollout(training.wrap(BraxEnv(brax_mode), episode_length=L, action_repeat=1), brax_mode),
            (KEY, ACTIONS),
        ),
        "env": (_rollout(training.AutoResetWrapper(training.VmapWrapper(BraxEnv(env))), env), (KEY, ACTIONS)),
        # Batches of B, as in the rollouts: a vmapped MJX solve iterates until the whole batch has
        # converged, so stepping all T * B states at once would change the numbers slightly.
        "step": (lambda s, a: jax.lax.map(lambda sa: jax.vmap(env.step)(*sa), (s, a)), (start, ACTIONS)),
        "reset": (jax.vmap(env.reset), (keys,)),
    }
    lowered = {name: jax.jit(fn).lower(*args) for name, (fn, args) in fns.items()}
    with concurrent.futures.ThreadPoolExecutor(len(lowered)) as pool:
        compiled = dict(zip(lowered, pool.map(lambda lo: lo.compile(), lowered.values()), strict=True))

    ref_first_obs = compiled["reset"](keys).obs
    results = {}
    for mode in ("brax", "env"):
        out, last = compiled[mode](KEY, ACTIONS)
        ref = compiled["step"](out.pop("start"), ACTIONS)
        out.update(
            ref_first_obs=ref_first_obs,
            ref_obs=ref.obs,
            ref_reward=ref.reward,
            ref_terminated=ref.terminated,
            ref_truncated=ref.truncated,
        )
        results[mode] = (jax.device_get(out), last)
    return results


@pytest.fixture(scope="module")
def rollouts() -> dict[str, Any]:
    return run_all()


def test_api() -> None:
    env = BraxEnv(envs.make("ant"))
    assert isinstance(env, brax_base.Env)
    assert (env.observation_size, env.action_size, env.backend) == (27, 8, "mjx")
    wrapped = training.wrap(env, episode_length=10)
    assert (wrapped.observation_size, wrapped.action_size, wrapped.backend) == (27, 8, "mjx")
    assert wrapped.unwrapped is env and wrapped.dt == pytest.approx(0.05)
    assert isinstance(envs.to_brax("hopper"), envs.BraxEnv)
    with pytest.raises(TypeError):
        BraxEnv(env)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["brax", "env"])
def test_matches_our_env(rollouts: dict[str, Any], mode: str) -> None:
    """Reset and every transition, auto-resets included, are our env's for the same key and action."""
    out, _ = rollouts[mode]
    live = out["done"] == 0  # where done, Brax returns the restart obs (checked below)
    np.testing.assert_array_equal(out["first_obs"], out["ref_first_obs"])
    np.testing.assert_array_equal(out["obs"][live], out["ref_obs"][live])
    np.testing.assert_array_equal(out["reward"], out["ref_reward"])
    assert out["obs"].dtype == out["ref_obs"].dtype and out["reward"].dtype == out["ref_reward"].dtype
    np.testing.assert_array_equal(out["done"], np.maximum(out["ref_terminated"], out["ref_truncated"]))
    np.testing.assert_array_equal(out["truncation"], out["ref_truncated"])


@pytest.mark.parametrize("mode", ["brax", "env"])
def test_done_and_truncation_semantics(rollouts: dict[str, Any], mode: str) -> None:
    """A time-limit end: done 1, truncation 1, at step L; a fall: done 1, truncation 0."""
    out, _ = rollouts[mode]
    done, trunc, steps = out["done"] > 0, out["truncation"] > 0, out["steps"]
    fell = done & ~trunc
    assert trunc.any() and fell.any(), "the rollout should end episodes both ways"
    assert not (trunc & ~done).any()
    np.testing.assert_array_equal(steps[trunc], L)
    np.testing.assert_array_equal(fell, out["ref_terminated"] > 0)
    assert steps.max() == L  # in "brax" mode our env's own 5-step limit is ignored


@pytest.mark.parametrize("mode", ["brax", "env"])
def test_auto_reset_restarts_finished_envs(rollouts: dict[str, Any], mode: str) -> None:
    out, _ = rollouts[mode]
    done = out["done"] > 0
    t, b = np.nonzero(done)
    # Back to the first state (Brax's AutoResetWrapper: the batch's initial states).
    np.testing.assert_array_equal(out["obs"][t, b], out["first_obs"][b])
    np.testing.assert_array_equal(out["qpos"][t, b], out["first_qpos"][b])
    # One count per step, from 1 after each restart: the adapter neither double counts with an
    # EpisodeWrapper nor misses AutoResetWrapper's reset of the counter.
    expected = np.ones(out["steps"].shape)
    for i in range(1, T):
        expected[i] = np.where(done[i - 1], 1, expected[i - 1] + 1)
    np.testing.assert_array_equal(out["steps"], expected)


def test_our_info_and_metrics_kept(rollouts: dict[str, Any]) -> None:
    _, last = rollouts["brax"]
    names = set(envs.make("hopper").metric_names)
    assert names <= set(last.metrics)
    assert {"rng", "nonfinite", "bad_action"} <= set(last.info)
    assert names | {"sum_reward", "length"} <= set(last.info["episode_metrics"])


def test_action_repeat_eval_wrapper_and_a_huge_own_limit() -> None:
    """Traces Brax's eval stack (EvalWrapper over wrap with action_repeat=2, whose lax.scan needs
    the adapter to return the pytree it was given) over an env whose own limit is the largest
    `envs.make` can step with (int32 step counter): shapes only, no compile."""
    env = to_brax("hopper", episode_length=2**31 - 1)
    wrapped = training.EvalWrapper(training.wrap(env, episode_length=L, action_repeat=2))
    state = jax.eval_shape(wrapped.reset, jax.random.split(KEY, B))
    nxt = jax.eval_shape(wrapped.step, state, ACTIONS[0])
    assert jax.tree.structure(nxt) == jax.tree.structure(state)
    assert nxt.obs.shape == (B, 11) and nxt.done.shape == (B,)
