"""Our MJX tasks as `brax.envs.Env`s, so Brax's wrappers and training code can drive them.

`BraxEnv(envs.make("hopper"))` maps our `State` onto Brax's `State(pipeline_state, obs,
reward, done, metrics, info)` without touching the numbers: `pipeline_state` is our
`mjx.Data`, `obs`/`reward`/`metrics` are ours as computed, and our `info` entries (`steps`,
`rng`, `nonfinite`, `bad_action`) sit in Brax's `info` next to Brax's own keys.

Time limits. Brax's convention is `done = terminated or time limit`, with the time-limit part
recorded in `info["truncation"]`; Brax's `EpisodeWrapper` applies the limit and owns
`info["steps"]` and `info["truncation"]`. Exactly one of the two limits may act, so the adapter
picks, at trace time, by whether an `EpisodeWrapper` is underneath the caller:

* no `EpisodeWrapper` (e.g. `AutoResetWrapper(VmapWrapper(BraxEnv(env)))`): our env's
  `episode_length` is the limit; `done = terminated | truncated`, `info["truncation"]` is our
  `truncated` and `info["steps"]` our step counter (which `AutoResetWrapper` zeroes on reset).
* under an `EpisodeWrapper` (`brax.envs.wrappers.training.wrap`, and so Brax's PPO/SAC): its
  `episode_length` is the limit and ours is ignored; `done = terminated`, and the adapter leaves
  `info["steps"]`/`info["truncation"]` to the wrapper. Letting ours act too would be wrong, not
  redundant: the wrapper files any `done` it did not cause itself as a termination
  (`truncation = 0`), and would count each step twice in the shared `steps`.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from brax.envs import base as brax_base

from envs.base import MjxEnv
from envs.state import State

# A key `brax.envs.wrappers.training.EpisodeWrapper.reset` adds to `info` (brax 0.14.2);
# its presence is how the adapter knows the wrapper owns the time limit.
EPISODE_WRAPPER_KEY = "episode_done"


class BraxEnv(brax_base.Env):
    """A `brax.envs.Env` view of an `MjxEnv`: same physics, obs, reward and metrics, bit for bit.

    Brax's `AutoResetWrapper` restarts a finished env from the state its batch was first reset
    to (no fresh reset noise, Brax's convention); our `envs.VecEnv` draws fresh noise instead.
    """

    def __init__(self, env: MjxEnv) -> None:
        if not isinstance(env, MjxEnv):
            raise TypeError(f"BraxEnv wraps an envs.MjxEnv (from envs.make), got {type(env).__name__}")
        self.env = env

    def __repr__(self) -> str:
        return f"BraxEnv({self.env!r})"

    # ------------------------------------------------------------ brax.envs.Env API
    @property
    def observation_size(self) -> int:
        return self.env.observation_size

    @property
    def action_size(self) -> int:
        return self.env.action_size

    @property
    def backend(self) -> str:
        """Brax's name for the physics pipeline: MuJoCo MJX."""
        return "mjx"

    @property
    def dt(self) -> float:
        """Seconds per env step, as Brax's `PipelineEnv.dt`."""
        return self.env.dt

    def reset(self, rng: jax.Array) -> brax_base.State:
        """Our `reset(rng)`, in Brax's State (`done = 0`, `info["truncation"] = 0`)."""
        s = self.env.reset(rng)
        info = dict(s.info)
        info["truncation"] = jnp.zeros((), jnp.float32)
        return brax_base.State(
            pipeline_state=s.data,
            obs=s.obs,
            reward=s.reward,
            done=jnp.zeros((), jnp.float32),
            metrics=dict(s.metrics),
            info=info,
        )

    def step(self, state: brax_base.State, action: jax.Array) -> brax_base.State:
        """Our `step`; `done`/`truncation`/`steps` as the module docstring describes.

        Keys that wrappers put into `info` and `metrics` are carried through unchanged: Brax's
        wrappers read them back, and `lax.scan` (action repeat) needs the same pytree out as in.
        """
        brax_limit = EPISODE_WRAPPER_KEY in state.info
        truncation = state.info["truncation"]
        ours = State(
            data=state.pipeline_state,
            obs=state.obs,
            reward=state.reward,
            terminated=(state.done * (1 - truncation)).astype(jnp.float32),
            truncated=jnp.asarray(truncation, jnp.float32),
            metrics={k: state.metrics[k] for k in self.env.metric_names},
            info={k: jnp.asarray(state.info[k]).astype(dtype) for k, dtype in self._info_dtypes.items()},
        )
        nxt = self.env.step(ours, action)

        info = dict(state.info)
        if brax_limit:
            info.update((k, v) for k, v in nxt.info.items() if k != "steps")
            done = nxt.terminated
        else:
            info.update(nxt.info)
            info["truncation"] = nxt.truncated
            done = jnp.maximum(nxt.terminated, nxt.truncated)
        metrics = dict(state.metrics)
        metrics.update(nxt.metrics)
        return brax_base.State(
            pipeline_state=nxt.data,
            obs=nxt.obs,
            reward=nxt.reward,
            done=done,
            metrics=metrics,
            info=info,
        )

    @functools.cached_property
    def _info_dtypes(self) -> dict[str, Any]:
        """Our env's own `info` keys and dtypes (shape-only trace of `reset`, once).

        Only these are handed to our `step`, cast back to our dtypes (an `EpisodeWrapper` keeps
        `steps` as float32), so Brax's extra keys never reach our env.
        """
        spec = jax.eval_shape(self.env.reset, jax.random.PRNGKey(0))
        return {k: v.dtype for k, v in spec.info.items()}


def to_brax(env: MjxEnv | str, **options: Any) -> BraxEnv:
    """`BraxEnv` of an env, or of `envs.make(env, **options)` when given a task name."""
    if isinstance(env, str):
        from envs.registry import make

        env = make(env, **options)
    elif options:
        raise TypeError("options are only accepted with a task name, not an already-made env")
    return BraxEnv(env)
