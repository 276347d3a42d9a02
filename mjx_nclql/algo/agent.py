"""The NC-LQL / LQL agent: parameters as a pytree, acting and updating as pure functions.

`Agent` is a frozen (hashable) description of the networks and hyperparameters; everything
that changes during training lives in `AgentState`. Both jit and vmap over seeds cleanly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from mjx_nclql import losses
from mjx_nclql.config import AlgoConfig
from mjx_nclql.critic import ChainCritic, EnsembleQ, make_critic, polyak
from mjx_nclql.noise import noise_levels
from mjx_nclql.sampler import annealed_langevin, langevin

DIAGNOSTIC_ROWS = 64  # batch rows the action-gradient diagnostic is measured on


@flax.struct.dataclass
class AgentState:
    params: Any
    target_params: Any
    opt_state: Any
    updates: jax.Array  # int32 number of updates applied


@flax.struct.dataclass
class Batch:
    """Transitions s, a, r, s', terminated (a truncation is NOT a termination)."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    next_obs: jax.Array
    terminated: jax.Array


@dataclasses.dataclass(frozen=True)
class Agent:
    cfg: AlgoConfig
    obs_dim: int
    action_dim: int

    @property
    def network(self) -> EnsembleQ:
        return make_critic(self.cfg.critic, conditioned=self.cfg.noise_conditioned)

    def with_particles(self, num_particles: int) -> Agent:
        """The same agent acting with the best of `num_particles` Langevin chains (used at
        evaluation and when loading a policy; training keeps its own sampler)."""
        if num_particles == self.cfg.sampler.num_particles:
            return self
        sampler = dataclasses.replace(self.cfg.sampler, num_particles=num_particles)
        return dataclasses.replace(self, cfg=dataclasses.replace(self.cfg, sampler=sampler))

    @property
    def sharpest(self) -> int:
        return self.cfg.sampler.num_levels - 1

    @property
    def optimizer(self) -> optax.GradientTransformation:
        adam = optax.adam(self.cfg.lr)
        if self.cfg.max_grad_norm > 0:
            return optax.chain(optax.clip_by_global_norm(self.cfg.max_grad_norm), adam)
        return adam

    def apply(self, params: Any, obs: jax.Array, action: jax.Array, level: jax.Array) -> jax.Array:
        """Q values of every critic, [num_critics, B]."""
        return self.network.apply({"params": params}, obs, action, level)

    def init(self, key: jax.Array) -> AgentState:
        obs = jnp.zeros((1, self.obs_dim), jnp.float32)
        act = jnp.zeros((1, self.action_dim), jnp.float32)
        params = self.network.init(key, obs, act, jnp.zeros((), jnp.int32))["params"]
        return AgentState(
            params=params,
            target_params=params,
            opt_state=self.optimizer.init(params),
            updates=jnp.zeros((), jnp.int32),
        )

    def q_fn(self, params: Any):
        return lambda obs, action, level: self.apply(params, obs, action, level)

    def chain_critic(self, params: Any) -> ChainCritic:
        """The critics factored for the Langevin chain (same values, less work per step)."""
        return ChainCritic(
            params,
            self.cfg.critic,
            self.cfg.noise_conditioned,
            self.obs_dim,
            self.cfg.sampler.num_levels,
        )

    def act(self, params: Any, obs: jax.Array, key: jax.Array) -> jax.Array:
        """Sample a ~ exp(w Q(s, .)) with the variant's Langevin sampler; obs [B, o] -> [B, d]."""
        sample = annealed_langevin if self.cfg.noise_conditioned else langevin
        return sample(self.chain_critic(params), obs, key, self.cfg.sampler, self.action_dim)

    def update(
        self, state: AgentState, batch: Batch, key: jax.Array
    ) -> tuple[AgentState, dict[str, jax.Array]]:
        """One NC-LQL (or LQL) update: TD step, noise-conditioning step, Polyak averaging."""
        cfg = self.cfg
        sample_key, level_key, noise_key = jax.random.split(key, 3)
        sharp = jnp.asarray(self.sharpest, jnp.int32)
        params = state.params

        next_action = jax.lax.stop_gradient(self.act(params, batch.next_obs, sample_key))
        q_next = self.apply(state.target_params, batch.next_obs, next_action, sharp).min(axis=0)
        targets = losses.td_targets(
            q_next, batch.reward, batch.terminated, gamma=cfg.gamma, reward_scale=cfg.reward_scale
        )

        def td(p: Any) -> tuple[jax.Array, jax.Array]:
            return losses.td_loss(p, self.apply, batch.obs, batch.action, targets, self.sharpest)

        opt = self.optimizer
        opt_state = state.opt_state
        metrics: dict[str, jax.Array] = {}
        if cfg.noise_conditioned:
            sigmas = noise_levels(
                cfg.sampler.sigma_max, cfg.sampler.sigma_min, cfg.sampler.num_levels
            )
            b = batch.obs.shape[0]
            level = jax.random.randint(level_key, (b,), 0, self.sharpest)
            noise = jax.random.normal(noise_key, batch.action.shape, batch.action.dtype)
            # Frozen smoothing target from the pre-update parameters.
            qbar = self.apply(params, batch.obs, batch.action, sharp).mean(axis=0)

            def nc(p: Any) -> jax.Array:
                return losses.noise_conditioning_loss(
                    p, self.apply, batch.obs, batch.action, qbar, level, noise, sigmas
                )

            if cfg.step_mode == "sequential":
                (td_val, q), g = jax.value_and_grad(td, has_aux=True)(params)
                upd, opt_state = opt.update(g, opt_state, params)
                params = optax.apply_updates(params, upd)
                nc_val, g = jax.value_and_grad(nc)(params)
                upd, opt_state = opt.update(g, opt_state, params)
                params = optax.apply_updates(params, upd)
            else:

                def total(p: Any) -> tuple[jax.Array, tuple[jax.Array, jax.Array, jax.Array]]:
                    td_val, q = td(p)
                    nc_val = nc(p)
                    return td_val + nc_val, (td_val, nc_val, q)

                (_, (td_val, nc_val, q)), g = jax.value_and_grad(total, has_aux=True)(params)
                upd, opt_state = opt.update(g, opt_state, params)
                params = optax.apply_updates(params, upd)
            metrics["nc_loss"] = nc_val
        else:
            (td_val, q), g = jax.value_and_grad(td, has_aux=True)(params)
            upd, opt_state = opt.update(g, opt_state, params)
            params = optax.apply_updates(params, upd)

        target_params = polyak(state.target_params, params, cfg.tau)
        # A diagnostic only: its backward pass on a sub-batch costs a fraction of the batch's.
        rows = slice(0, DIAGNOSTIC_ROWS)
        grad_a = jax.grad(lambda a: self.apply(state.params, batch.obs[rows], a, sharp).sum())(
            batch.action[rows]
        )
        metrics.update(
            td_loss=td_val,
            q_mean=q.mean(),
            q_std=q.std(),
            target_mean=targets.mean(),
            grad_a_norm=jnp.linalg.norm(grad_a, axis=-1).mean(),
            next_action_mean=next_action.mean(),
            next_action_std=next_action.std(),
            next_action_at_bound=jnp.mean(jnp.abs(next_action) >= 1.0 - 1e-6),
        )
        new_state = AgentState(
            params=params,
            target_params=target_params,
            opt_state=opt_state,
            updates=state.updates + 1,
        )
        return new_state, metrics
