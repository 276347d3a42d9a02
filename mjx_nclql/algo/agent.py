"""The NC-LQL / LQL agent: parameters as a pytree, acting and updating as pure functions.

`Agent` is a frozen (hashable) description of the networks and hyperparameters; everything
that changes during training lives in `AgentState`. Both jit and vmap over seeds cleanly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from mjx_nclql.algo import losses
from mjx_nclql.algo.batch import Batch
from mjx_nclql.algo.critic import ChainCritic, EnsembleQ, make_critic, polyak
from mjx_nclql.algo.noise import noise_levels
from mjx_nclql.algo.sampler import annealed_langevin, langevin

if TYPE_CHECKING:
    from mjx_nclql.core.config import AlgoConfig

DIAGNOSTIC_ROWS = 64  # batch rows the action-gradient diagnostic is measured on
Objective = Callable[[Any], tuple[jax.Array, Any]]  # params -> (loss, aux)


@flax.struct.dataclass
class AgentState:
    params: Any
    target_params: Any
    opt_state: Any
    updates: jax.Array  # int32 number of updates applied


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
        """One NC-LQL (or LQL) update: the TD target, the TD step, for NC-LQL the
        noise-conditioning step (`algo.step_mode`: after the TD step, or summed with it),
        then Polyak averaging of the targets."""
        sample_key, level_key, noise_key = jax.random.split(key, 3)
        next_action, targets = self.td_target(state, batch, sample_key)
        td = self.td_objective(batch, targets)
        metrics: dict[str, jax.Array] = {}
        if self.cfg.noise_conditioned:
            nc = self.nc_objective(state.params, batch, level_key, noise_key)
            params, opt_state, (td_val, q, nc_val) = self.td_and_nc_steps(
                td, nc, state.params, state.opt_state
            )
            metrics["nc_loss"] = nc_val
        else:
            params, opt_state, (td_val, q) = self.optimiser_step(td, state.params, state.opt_state)
        target_params = polyak(state.target_params, params, self.cfg.tau)
        metrics.update(td_loss=td_val, **self.diagnostics(state.params, batch, q, targets, next_action))
        new_state = AgentState(
            params=params, target_params=target_params, opt_state=opt_state, updates=state.updates + 1
        )
        return new_state, metrics

    # ------------------------------------------------------------------ the update's steps
    def td_target(self, state: AgentState, batch: Batch, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(a' ~ the sampler on the online critics at s', the TD target from the target
        critics' minimum at the sharpest level)."""
        sharp = jnp.asarray(self.sharpest, jnp.int32)
        next_action = jax.lax.stop_gradient(self.act(state.params, batch.next_obs, key))
        q_next = self.apply(state.target_params, batch.next_obs, next_action, sharp).min(axis=0)
        targets = losses.td_targets(
            q_next, batch.reward, batch.terminated, gamma=self.cfg.gamma, reward_scale=self.cfg.reward_scale
        )
        return next_action, targets

    def td_objective(self, batch: Batch, targets: jax.Array) -> Objective:
        """params -> (TD loss at the sharpest level, Q of the batch's actions)."""
        return lambda p: losses.td_loss(p, self.apply, batch.obs, batch.action, targets, self.sharpest)

    def nc_objective(
        self, params: Any, batch: Batch, level_key: jax.Array, noise_key: jax.Array
    ) -> Objective:
        """params -> (noise-conditioning loss, None): each critic at a random level l < L-1 on
        a + sigma_l e, regressed on the mean of the critics at the sharpest level, frozen at
        the pre-update `params`."""
        s = self.cfg.sampler
        sigmas = noise_levels(s.sigma_max, s.sigma_min, s.num_levels)
        level = jax.random.randint(level_key, (batch.obs.shape[0],), 0, self.sharpest)
        noise = jax.random.normal(noise_key, batch.action.shape, batch.action.dtype)
        qbar = self.apply(params, batch.obs, batch.action, jnp.asarray(self.sharpest, jnp.int32)).mean(axis=0)
        return lambda p: (
            losses.noise_conditioning_loss(
                p, self.apply, batch.obs, batch.action, qbar, level, noise, sigmas
            ),
            None,
        )

    def optimiser_step(self, objective: Objective, params: Any, opt_state: Any) -> tuple[Any, Any, Any]:
        """One step of the optimiser on `objective(params) -> (loss, aux)`: (new params, new
        optimiser state, (loss, aux))."""
        value, grads = jax.value_and_grad(objective, has_aux=True)(params)
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    def td_and_nc_steps(
        self, td: Objective, nc: Objective, params: Any, opt_state: Any
    ) -> tuple[Any, Any, tuple[jax.Array, jax.Array, jax.Array]]:
        """NC-LQL's two losses on one optimiser state: a TD step, then a noise-conditioning
        step from its result (`sequential`, the reference program), or one step on their sum
        (`summed`). Returns (params, optimiser state, (TD loss, Q, noise-conditioning loss))."""
        if self.cfg.step_mode == "sequential":
            params, opt_state, (td_val, q) = self.optimiser_step(td, params, opt_state)
            params, opt_state, (nc_val, _) = self.optimiser_step(nc, params, opt_state)
            return params, opt_state, (td_val, q, nc_val)

        def summed(p: Any) -> tuple[jax.Array, tuple[jax.Array, jax.Array, jax.Array]]:
            td_val, q = td(p)
            nc_val, _ = nc(p)
            return td_val + nc_val, (td_val, q, nc_val)

        params, opt_state, (_, parts) = self.optimiser_step(summed, params, opt_state)
        return params, opt_state, parts

    def diagnostics(
        self, params: Any, batch: Batch, q: jax.Array, targets: jax.Array, next_action: jax.Array
    ) -> dict[str, jax.Array]:
        """What the update reports besides its losses. The action-gradient norm is measured
        on a sub-batch: its backward pass then costs a fraction of the batch's."""
        rows = slice(0, DIAGNOSTIC_ROWS)
        sharp = jnp.asarray(self.sharpest, jnp.int32)
        grad_a = jax.grad(lambda a: self.apply(params, batch.obs[rows], a, sharp).sum())(batch.action[rows])
        return {
            "q_mean": q.mean(),
            "q_std": q.std(),
            "target_mean": targets.mean(),
            "grad_a_norm": jnp.linalg.norm(grad_a, axis=-1).mean(),
            "next_action_mean": next_action.mean(),
            "next_action_std": next_action.std(),
            "next_action_at_bound": jnp.mean(jnp.abs(next_action) >= 1.0 - 1e-6),
        }
