"""Load a trained run and act with it: `policy = mjx_nclql.load(run_dir)`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from mjx_nclql.algo.agent import Agent
from mjx_nclql.core.config import RunConfig
from mjx_nclql.runtime.build import build, make_env
from mjx_nclql.runtime.checkpoint import Checkpointer, CheckpointError
from mjx_nclql.runtime.run_dir import checkpoint_dir, load_run_config

if TYPE_CHECKING:
    from envs.protocol import Env


@dataclasses.dataclass(frozen=True)
class Policy:
    """A trained agent's sampler bound to its parameters (one seed of the run).

    `policy(obs, key)` maps observations [B, obs] (or [obs]) to actions in [-1, 1]^d drawn
    from exp(w Q(s, .)) with the run's sampler; it is jitted and pure.
    """

    agent: Agent
    params: Any
    config: RunConfig
    step: int
    act: Callable[[Any, jax.Array, jax.Array], jax.Array]

    def __call__(self, obs: jax.Array, key: jax.Array) -> jax.Array:
        obs = jnp.asarray(obs, jnp.float32)
        if obs.shape[-1] != self.agent.obs_dim:
            raise ValueError(
                f"observation has size {obs.shape[-1]}, this policy expects {self.agent.obs_dim}"
            )
        if obs.ndim == 1:
            return self.act(self.params, obs[None], key)[0]
        return self.act(self.params, obs, key)

    def make_env(self) -> Env:
        """The run's environment, built with the run's options."""
        return make_env(self.config)


def restore_params(
    run_dir: str, step: int | None = None, num_particles: int | None = None
) -> tuple[RunConfig, Agent, int, Any]:
    """(config, agent, checkpoint step, critic parameters with a leading seed axis) of a run;
    `step=None` takes the newest readable checkpoint."""
    cfg = load_run_config(run_dir)
    agent = build(cfg).agent
    if num_particles is not None:
        agent = agent.with_particles(num_particles)
    one = jax.eval_shape(agent.init, jax.random.PRNGKey(0)).params
    like = jax.tree.map(lambda x: jnp.zeros((cfg.num_seeds, *x.shape), x.dtype), one)
    ckpt_dir = checkpoint_dir(run_dir)
    if not os.path.isdir(ckpt_dir):
        raise CheckpointError(f"{ckpt_dir} does not exist: the run saved no checkpoint")
    ckpt = Checkpointer(ckpt_dir)
    try:
        step, params = ckpt.restore_policy(like, step)
    finally:
        ckpt.close()
    return cfg, agent, step, params


def load(
    run_dir: str, seed_index: int = 0, num_particles: int | None = None, step: int | None = None
) -> Policy:
    """Policy of seed `seed_index` from checkpoint `step` (default: the newest readable)."""
    num_seeds = load_run_config(run_dir).num_seeds
    if not 0 <= seed_index < num_seeds:
        raise ValueError(f"seed_index must be in [0, {num_seeds}), got {seed_index}")
    cfg, agent, step, params = restore_params(run_dir, step, num_particles)
    params = jax.tree.map(lambda x: x[seed_index], params)
    return Policy(agent=agent, params=params, config=cfg, step=step, act=jax.jit(agent.act))
