"""The training program: collection, replay and updates fused into jitted `lax.scan` chunks.

`Trainer` builds pure functions of a `TrainState` with a leading seed axis: `init(keys)`,
`warmup_chunk(state)` (uniform actions, no updates), `train_chunk(state)` (Langevin actions,
updates) and `evaluate(params, keys)`. Each is `jit(vmap(...))` over seeds, so N seeds are
one program; nothing leaves the device inside a chunk. A chunk returns the new state and a
`ChunkSummary`; Python drives the chunks (see `loop.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flashbax as fbx
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from envs.vector import VecEnv, VecState
from mjx_nclql.algo.batch import Batch
from mjx_nclql.runtime.rollout import EpisodeStats, run_episodes
from mjx_nclql.runtime.schedule import make_schedule

if TYPE_CHECKING:
    from envs.protocol import Env
    from mjx_nclql.algo.agent import Agent, AgentState
    from mjx_nclql.core.config import TrainConfig

# What each compiled function is called in the console ("compiling the training chunk ...").
COMPILED_NAMES = {"warmup_chunk": "warm-up chunk", "train_chunk": "training chunk", "evaluate": "evaluation"}
SEED_AXIS = "seed"  # the axis name of the vmap over seeds (the env batch reduces over it)


@flax.struct.dataclass
class TrainState:
    """One seed's whole training state (the trainer's functions add a leading seed axis)."""

    agent: AgentState
    buffer: Any  # flashbax item-buffer state
    envs: VecState  # the batch of environments, mid-episode
    key: jax.Array


@flax.struct.dataclass
class EpisodeTotals:
    """Episodes that ended during a chunk: their count and summed returns and lengths."""

    count: jax.Array
    return_sum: jax.Array
    length_sum: jax.Array

    @classmethod
    def of_step(cls, envs: VecState) -> EpisodeTotals:
        """The episodes that ended on the step that produced `envs`."""
        return cls(
            count=envs.ep_done.sum(),
            return_sum=envs.ep_return.sum().astype(jnp.float32),  # 0 where not ended
            length_sum=envs.ep_length.sum().astype(jnp.float32),
        )

    def means(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean return, mean length) per seed on the host; NaN where no episode ended."""
        count = np.asarray(self.count)
        ended = np.maximum(count, 1)  # no division by zero: those entries become NaN below
        return (
            np.where(count > 0, np.asarray(self.return_sum) / ended, np.nan),
            np.where(count > 0, np.asarray(self.length_sum) / ended, np.nan),
        )


@flax.struct.dataclass
class ChunkSummary:
    """What a chunk reports to the host (each field with a leading seed axis there)."""

    episodes: EpisodeTotals
    losses: dict[str, jax.Array]  # the agent's update metrics averaged over the chunk; {} in warm-up
    nan_resets_total: jax.Array  # resets forced by non-finite physics since the run began
    sanitised_actions_total: jax.Array  # actions with non-finite entries (zeroed) since then
    params_finite: jax.Array  # every critic parameter is finite after the chunk


def replay_bytes(obs_dim: int, action_dim: int, capacity: int, num_seeds: int) -> int:
    """Device memory of the replay buffers: (2 obs + action + reward + terminated) float32."""
    return 4 * (2 * obs_dim + action_dim + 2) * capacity * num_seeds


class Trainer:
    """Pure, seed-vmapped building blocks of one training run."""

    def __init__(self, env: Env, agent: Agent, cfg: TrainConfig) -> None:
        if agent.obs_dim != env.observation_size or agent.action_dim != env.action_size:
            raise ValueError(
                f"agent sizes ({agent.obs_dim}, {agent.action_dim}) do not match env "
                f"{env.name} ({env.observation_size}, {env.action_size})"
            )
        self.env = env
        self.agent = agent
        self.cfg = cfg
        self.vec = VecEnv(env, cfg.num_envs, batch_axis=SEED_AXIS)
        self.schedule = make_schedule(cfg)
        self.buffer = fbx.make_item_buffer(
            max_length=cfg.buffer_size,
            min_length=1,
            sample_batch_size=cfg.batch_size,
            add_batches=True,
        )
        self.init = jax.jit(jax.vmap(self._init))
        # The state (replay buffer included) is donated: a chunk updates it in place instead of
        # holding two copies; the caller must use the returned state, not the one passed in.
        self.warmup_chunk = jax.jit(
            jax.vmap(lambda s: self._chunk(s, warmup=True), axis_name=SEED_AXIS), donate_argnums=0
        )
        self.train_chunk = jax.jit(
            jax.vmap(lambda s: self._chunk(s, warmup=False), axis_name=SEED_AXIS), donate_argnums=0
        )
        self.evaluate = jax.jit(jax.vmap(self._evaluate, in_axes=(0, 0)))

        self.compiled: set[str] = set()  # functions compiled ahead of their first call

    def chunk_name(self, index: int) -> str:
        """Which chunk function chunk `index` (0-based) of the schedule runs."""
        return "warmup_chunk" if self.schedule.is_warmup(index) else "train_chunk"

    def run_chunk(self, state: TrainState, index: int) -> tuple[TrainState, ChunkSummary]:
        """Chunk `index` (0-based) of the schedule: warm-up or training."""
        return getattr(self, self.chunk_name(index))(state)

    def compile_once(
        self, name: str, *args: Any, announce: Callable[[str, Callable[[], float]], None]
    ) -> None:
        """Compile function `name` for `args` ahead of its first call (which then reuses the
        program), through `announce(what, compile)` so the caller can show compiling as a
        phase of its own rather than as a slow first chunk; a no-op once compiled."""
        if name in self.compiled:
            return

        def compile_now() -> float:
            started = time.perf_counter()
            getattr(self, name).lower(*args).compile()
            return time.perf_counter() - started

        announce(COMPILED_NAMES[name], compile_now)
        self.compiled.add(name)

    # ------------------------------------------------------------------ single seed
    def _init(self, key: jax.Array) -> TrainState:
        agent_key, env_key, key = jax.random.split(key, 3)
        obs_dim, act_dim = self.env.observation_size, self.env.action_size
        example = Batch(
            obs=jnp.zeros((obs_dim,), jnp.float32),
            action=jnp.zeros((act_dim,), jnp.float32),
            reward=jnp.zeros((), jnp.float32),
            next_obs=jnp.zeros((obs_dim,), jnp.float32),
            terminated=jnp.zeros((), jnp.float32),
        )
        return TrainState(
            agent=self.agent.init(agent_key),
            buffer=self.buffer.init(example),
            envs=self.vec.reset(env_key),
            key=key,
        )

    def _iteration(
        self, ts: TrainState, warmup: bool
    ) -> tuple[TrainState, tuple[EpisodeTotals, dict[str, jax.Array]]]:
        key, act_key, upd_key = jax.random.split(ts.key, 3)
        obs = ts.envs.obs.astype(jnp.float32)
        if warmup:
            actions = jax.random.uniform(
                act_key, (self.cfg.num_envs, self.env.action_size), minval=-1.0, maxval=1.0
            )
        else:
            actions = self.agent.act(ts.agent.params, obs, act_key)
        envs = self.vec.step(ts.envs, actions)
        transitions = Batch(
            obs=obs,
            action=actions,
            reward=envs.reward.astype(jnp.float32),
            next_obs=envs.final_obs.astype(jnp.float32),  # true next obs, also on truncation
            terminated=envs.terminated.astype(jnp.float32),
        )
        buffer = self.buffer.add(ts.buffer, transitions)
        losses: dict[str, jax.Array] = {}
        agent_state = ts.agent
        if not warmup:
            keys = jax.random.split(upd_key, self.cfg.updates_per_step)
            agent_state, metrics = jax.lax.scan(
                lambda state, k: self.sampled_update(state, buffer, k), agent_state, keys
            )
            losses = jax.tree.map(jnp.mean, metrics)
        new = TrainState(agent=agent_state, buffer=buffer, envs=envs, key=key)
        return new, (EpisodeTotals.of_step(envs), losses)

    def sampled_update(
        self, state: AgentState, buffer: Any, key: jax.Array
    ) -> tuple[AgentState, dict[str, jax.Array]]:
        """One update on a batch freshly drawn from `buffer` (what training does, and what
        the benchmark times)."""
        sample_key, update_key = jax.random.split(key)
        batch = self.buffer.sample(buffer, sample_key).experience
        return self.agent.update(state, batch, update_key)

    def _chunk(self, ts: TrainState, warmup: bool) -> tuple[TrainState, ChunkSummary]:
        ts, (episodes, losses) = jax.lax.scan(
            lambda s, _: self._iteration(s, warmup), ts, None, length=self.schedule.chunk_iters
        )
        finite = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(ts.agent.params)]
        return ts, ChunkSummary(
            episodes=jax.tree.map(jnp.sum, episodes),
            losses=jax.tree.map(jnp.mean, losses),
            nan_resets_total=ts.envs.nan_resets,
            sanitised_actions_total=ts.envs.sanitised_actions,
            params_finite=jnp.all(jnp.stack(finite)),
        )

    def _evaluate(self, params: Any, key: jax.Array) -> EpisodeStats:
        """`eval_episodes` full episodes with the stochastic sampler: returns, lengths [K]."""
        return run_episodes(self.env, self.eval_agent.act, params, key, self.cfg.eval_episodes)

    @property
    def eval_agent(self) -> Agent:
        """The agent evaluations act with: the training sampler, unless `eval_particles` sets
        another number of chains."""
        return self.agent.with_particles(self.cfg.eval_particles or self.agent.cfg.sampler.num_particles)
