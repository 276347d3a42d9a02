"""The training program: collection, replay and updates fused into jitted `lax.scan` chunks.

`Trainer` builds pure functions of a `TrainState` with a leading seed axis: `init(keys)`,
`warmup_chunk(state)` (uniform actions, no updates), `train_chunk(state)` (Langevin actions,
updates) and `evaluate(state)`. Each is `jit(vmap(...))` over seeds, so N seeds are one
program; nothing leaves the device inside a chunk. Python drives the chunks (see `train.py`).
"""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import Any

import flashbax as fbx
import flax.struct
import jax
import jax.numpy as jnp

from envs.vector import VecEnv, VecState
from mjx_nclql.agent import Agent, AgentState, Batch
from mjx_nclql.config import TrainConfig
from mjx_nclql.rollout import EpisodeStats, run_episodes

SEED_AXIS = "seed"  # the axis name of the vmap over seeds (the env batch reduces over it)


@flax.struct.dataclass
class TrainState:
    agent: AgentState
    buffer: Any  # flashbax item-buffer state
    env: VecState
    key: jax.Array
    env_steps: jax.Array  # int32 transitions collected (all envs)


def replay_bytes(obs_dim: int, action_dim: int, capacity: int, num_seeds: int) -> int:
    """Device memory of the replay buffers: (2 obs + action + reward + terminated) float32."""
    return 4 * (2 * obs_dim + action_dim + 2) * capacity * num_seeds


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How the protocol's transition counts map onto chunks of vector steps.

    As in the reference program, warm-up is not part of the budget: `train_chunks` cover
    `total_steps` transitions (so `total_steps / num_envs * updates_per_step` updates), and
    evaluations and checkpoints fall every so many post-warm-up transitions.
    """

    chunk_iters: int
    steps_per_chunk: int  # transitions per chunk, all envs together
    warmup_chunks: int
    train_chunks: int
    eval_every_chunks: int
    checkpoint_every_chunks: int  # 0 = no periodic checkpoints

    @property
    def total_chunks(self) -> int:
        return self.warmup_chunks + self.train_chunks

    def env_steps(self, chunk: int) -> int:
        """Transitions collected after `chunk` chunks, warm-up included."""
        return chunk * self.steps_per_chunk

    def post_warmup_steps(self, chunk: int) -> int:
        """Transitions counted in the budget after `chunk` chunks (the paper's x-axis)."""
        return max(0, chunk - self.warmup_chunks) * self.steps_per_chunk

    def is_warmup(self, chunk: int) -> bool:
        """Whether chunk index `chunk` (0-based) collects uniform-random warm-up data."""
        return chunk < self.warmup_chunks

    def eval_due(self, chunk: int) -> bool:
        """After `chunk` chunks: every `eval_every` post-warm-up transitions, and at the end."""
        done = chunk - self.warmup_chunks
        return done > 0 and (done % self.eval_every_chunks == 0 or chunk == self.total_chunks)

    def checkpoint_due(self, chunk: int) -> bool:
        """After `chunk` chunks: at the end of warm-up, every `checkpoint_every` post-warm-up
        transitions, and at the end."""
        done = chunk - self.warmup_chunks
        every = self.checkpoint_every_chunks
        return chunk == self.total_chunks or bool(every and done >= 0 and done % every == 0)


def make_schedule(cfg: TrainConfig, batch_size: int) -> Schedule:
    """Round the protocol to whole chunks: warm-up rounds up (so the buffer can fill a batch and
    training starts on a chunk boundary); the budget after it rounds up to whole chunks."""
    n = cfg.num_envs
    train_iters = max(1, cfg.total_steps // n)
    chunk = min(cfg.chunk_iters, train_iters)
    warm_iters = math.ceil(max(cfg.warmup_steps, batch_size) / n)
    per_chunk = n * chunk
    return Schedule(
        chunk_iters=chunk,
        steps_per_chunk=per_chunk,
        warmup_chunks=math.ceil(warm_iters / chunk),
        train_chunks=math.ceil(train_iters / chunk),
        eval_every_chunks=max(1, round(cfg.eval_every / per_chunk)),
        checkpoint_every_chunks=(
            max(1, round(cfg.checkpoint_every / per_chunk)) if cfg.checkpoint_every else 0
        ),
    )


class Trainer:
    """Pure, seed-vmapped building blocks of one training run."""

    def __init__(self, env: Any, agent: Agent, cfg: TrainConfig, batch_size: int) -> None:
        if agent.obs_dim != env.observation_size or agent.action_dim != env.action_size:
            raise ValueError(
                f"agent sizes ({agent.obs_dim}, {agent.action_dim}) do not match env "
                f"{env.name} ({env.observation_size}, {env.action_size})"
            )
        self.env = env
        self.agent = agent
        self.cfg = cfg
        self.vec = VecEnv(env, cfg.num_envs, batch_axis=SEED_AXIS)
        self.schedule = make_schedule(cfg, batch_size)
        # Python-side count of traces per function: a retrace shows up here (tests assert 1).
        self.trace_counts: collections.Counter[str] = collections.Counter()
        self.buffer = fbx.make_item_buffer(
            max_length=cfg.buffer_size,
            min_length=1,
            sample_batch_size=batch_size,
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
            env=self.vec.reset(env_key),
            key=key,
            env_steps=jnp.zeros((), jnp.int32),
        )

    def _iteration(self, ts: TrainState, warmup: bool) -> tuple[TrainState, dict[str, jax.Array]]:
        key, act_key, upd_key = jax.random.split(ts.key, 3)
        obs = ts.env.obs.astype(jnp.float32)
        if warmup:
            actions = jax.random.uniform(act_key, (self.cfg.num_envs, self.env.action_size),
                                         minval=-1.0, maxval=1.0)
        else:
            actions = self.agent.act(ts.agent.params, obs, act_key)
        env = self.vec.step(ts.env, actions)
        transitions = Batch(
            obs=obs,
            action=actions,
            reward=env.reward.astype(jnp.float32),
            next_obs=env.final_obs.astype(jnp.float32),  # true next obs, also on truncation
            terminated=env.terminated.astype(jnp.float32),
        )
        buffer = self.buffer.add(ts.buffer, transitions)
        out = {
            "episodes": env.ep_done.sum(),
            "episode_return_sum": (env.ep_return * env.ep_done).sum().astype(jnp.float32),
            "episode_length_sum": (env.ep_length * env.ep_done).sum().astype(jnp.float32),
        }
        agent_state = ts.agent
        if not warmup:

            def one_update(state: AgentState, k: jax.Array) -> tuple[AgentState, dict]:
                sample_key, update_key = jax.random.split(k)
                batch = self.buffer.sample(buffer, sample_key).experience
                return self.agent.update(state, batch, update_key)

            keys = jax.random.split(upd_key, self.cfg.updates_per_step)
            agent_state, metrics = jax.lax.scan(one_update, agent_state, keys)
            out.update(jax.tree.map(jnp.mean, metrics))
        new = TrainState(
            agent=agent_state,
            buffer=buffer,
            env=env,
            key=key,
            env_steps=ts.env_steps + self.cfg.num_envs,
        )
        return new, out

    def _chunk(self, ts: TrainState, warmup: bool) -> tuple[TrainState, dict[str, jax.Array]]:
        self.trace_counts["warmup_chunk" if warmup else "train_chunk"] += 1
        ts, outs = jax.lax.scan(
            lambda s, _: self._iteration(s, warmup), ts, None, length=self.schedule.chunk_iters
        )
        summary = {k: v.mean() for k, v in outs.items() if not k.startswith("episode")}
        summary["episodes"] = outs["episodes"].sum()
        summary["episode_return_sum"] = outs["episode_return_sum"].sum()
        summary["episode_length_sum"] = outs["episode_length_sum"].sum()
        summary["nan_resets"] = ts.env.nan_resets
        summary["sanitised_actions"] = ts.env.sanitised_actions
        summary["params_finite"] = jnp.all(
            jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(ts.agent.params)])
        )
        return ts, summary

    def _evaluate(self, params: Any, key: jax.Array) -> EpisodeStats:
        """`eval_episodes` full episodes with the stochastic sampler: returns, lengths [K]."""
        self.trace_counts["evaluate"] += 1
        agent = self.agent
        if self.cfg.eval_particles != agent.cfg.sampler.num_particles:
            sampler = dataclasses.replace(
                agent.cfg.sampler, num_particles=self.cfg.eval_particles
            )
            agent = dataclasses.replace(agent, cfg=dataclasses.replace(agent.cfg, sampler=sampler))
        return run_episodes(self.env, agent.act, params, key, self.cfg.eval_episodes)

    # ------------------------------------------------------------------ conveniences
    def seed_keys(self, seed: int, num_seeds: int) -> jax.Array:
        """One independent key per seed: seed s of a multi-seed run equals a 1-seed run of s."""
        return jnp.stack([jax.random.PRNGKey(seed + i) for i in range(num_seeds)])
