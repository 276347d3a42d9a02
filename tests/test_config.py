"""Invalid algorithm settings fail with a message naming the field, before any compile."""

from __future__ import annotations

import math

import pytest

from mjx_nclql.core.config import (
    AlgoConfig,
    ConfigError,
    DistConfig,
    EnvConfig,
    RunConfig,
    SamplerConfig,
    TrainConfig,
    from_dict,
)


def test_defaults_are_the_reference_program() -> None:
    cfg = AlgoConfig()
    s = cfg.sampler
    assert (s.w, s.num_levels, s.steps_per_level) == (500.0, 10, 2)
    assert (s.sigma_max, s.sigma_min, s.eps, s.grad_norm, s.num_particles) == (0.1, 0.001, 1e-4, True, 1)
    assert cfg.critic.hidden_sizes == (256, 256, 256) and cfg.critic.activation == "mish"
    assert cfg.critic.level_embed_dim == 16 and cfg.critic.num_critics == 2
    assert (cfg.lr, cfg.gamma, cfg.tau, cfg.reward_scale, TrainConfig().batch_size) == (
        1e-4,
        0.99,
        0.005,
        0.2,
        256,
    )
    assert cfg.step_mode == "sequential"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sampler": {"sigma_min": 0.2}}, "sampler.sigma_min"),
        ({"sampler": {"num_levels": 0}}, "sampler.num_levels"),
        ({"sampler": {"steps_per_level": 0}}, "sampler.steps_per_level"),
        ({"sampler": {"w": 0.0}}, "sampler.w"),
        ({"sampler": {"w": -1.0}}, "sampler.w"),
        ({"sampler": {"eps": 0.0}}, "sampler.eps"),
        ({"sampler": {"num_particles": 0}}, "sampler.num_particles"),
        ({"sampler": {"w": math.nan}}, "sampler.w"),
        ({"sampler": {"eps": math.inf}}, "sampler.eps"),
        ({"sampler": {"num_levels": 2.5}}, "sampler.num_levels"),
        ({"sampler": {"w": "big"}}, "sampler.w"),
        ({"sampler": {"grad_norm": "yes"}}, "sampler.grad_norm"),
        ({"lr": -1e-3}, "algo.lr"),
        ({"gamma": 1.0}, "algo.gamma"),
        ({"tau": 1.5}, "algo.tau"),
        ({"step_mode": "both"}, "step_mode"),
        ({"variant": "sac"}, "variant"),
        ({"critic": {"hidden_sizes": []}}, "critic.hidden_sizes"),
        ({"critic": {"activation": "swish2"}}, "critic.activation"),
        ({"variant": "lql"}, "sampler.num_levels"),
        ({"sampler": {"num_levels": 1}}, "sampler.num_levels"),
        ({"samplr": {}}, "samplr"),
        ({"sampler": {"temperature": 1}}, "temperature"),
    ],
)
def test_invalid_values_name_the_field(values: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        from_dict(AlgoConfig, values)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"batch_size": 0}, "train.batch_size"),
        ({"batch_size": 2000, "buffer_size": 1000}, "train.batch_size"),
        ({"num_envs": 0}, "train.num_envs"),
        ({"eval_particles": 0}, "train.eval_particles"),
        ({"eval_particles": 1.5}, "train.eval_particles"),
    ],
)
def test_invalid_train_settings_name_the_field(values: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        from_dict(TrainConfig, values)


@pytest.mark.parametrize(
    ("train_particles", "eval_particles", "expected"), [(1, None, 1), (4, None, 4), (4, 1, 1), (1, 8, 8)]
)
def test_evaluation_follows_the_training_sampler_unless_set(
    train_particles: int, eval_particles: int | None, expected: int
) -> None:
    """The reference evaluates with the sampler it trains with; `eval_particles` overrides."""
    from mjx_nclql.runtime.build import build

    cfg = RunConfig(
        env=EnvConfig(name="probe_bandit"),
        algo=AlgoConfig(sampler=SamplerConfig(num_particles=train_particles)),
        train=TrainConfig(
            eval_particles=eval_particles, buffer_size=1000, total_steps=100, warmup_steps=0, batch_size=8
        ),
    )
    trainer = build(cfg).trainer
    assert trainer.agent.cfg.sampler.num_particles == train_particles
    assert trainer.eval_agent.cfg.sampler.num_particles == expected


def test_from_dict_builds_nested_and_converts_ints() -> None:
    cfg = from_dict(
        AlgoConfig,
        {
            "variant": "lql",
            "sampler": {"num_levels": 1, "steps_per_level": 20, "w": 100},
            "critic": {"hidden_sizes": [64, 64]},
        },
    )
    assert cfg.sampler == SamplerConfig(num_levels=1, steps_per_level=20, w=100.0)
    assert cfg.critic.hidden_sizes == (64, 64)
    assert not cfg.noise_conditioned


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"enabled": "yes"}, "distributed.enabled"),
        ({"coordinator_address": "host0"}, "distributed.coordinator_address"),
        ({"num_processes": 2}, "distributed.num_processes"),
        ({"num_processes": 0, "process_id": 0}, "distributed.num_processes"),
        ({"num_processes": 2, "process_id": 2}, "distributed.process_id"),
        ({"num_processes": 2, "process_id": -1}, "distributed.process_id"),
    ],
)
def test_invalid_distributed_settings_name_the_field(values: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        from_dict(RunConfig, {"distributed": values})
    ok = from_dict(
        RunConfig,
        {
            "distributed": {
                "enabled": True,
                "num_processes": 2,
                "process_id": 1,
                "coordinator_address": "host0:1234",
            }
        },
    )
    assert ok.distributed == DistConfig(True, "host0:1234", 2, 1)
