"""Hydra composition on top of the dataclass defaults (no JAX: composing takes milliseconds)."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

import pytest
import yaml

from mjx_nclql.core import cli_config
from mjx_nclql.core.cli_config import CONFIG_DIR, compose, config_from_hydra, hydra_main, register
from mjx_nclql.core.config import (
    AlgoConfig,
    ConfigError,
    CriticConfig,
    DistConfig,
    EnvConfig,
    LogConfig,
    RunConfig,
    SamplerConfig,
    TrainConfig,
    to_dict,
)

ENVS = ("ant", "halfcheetah", "hopper", "humanoid", "swimmer", "walker2d")
ALGOS = ("nclql", "lql")
PRESETS = ("paper", "fast", "smoke")

# The default composition: RunConfig() plus the task file's episode length (paper = defaults).
DEFAULT = dataclasses.replace(RunConfig(), env=EnvConfig(options={"episode_length": 1000}))


def _compose_dictconfig(overrides: list[str]) -> Any:
    """The composed config before validation (a DictConfig)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    register()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return hydra_compose("config", overrides=overrides)


def _raw(overrides: list[str]) -> dict[str, Any]:
    """The composed config before validation, as a plain dict."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(_compose_dictconfig(overrides), resolve=True)


def _leaves(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_leaves(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _group_files() -> list[tuple[str, str]]:
    return [
        (group, name[:-5])
        for group in ("env", "algo", "preset")
        for name in sorted(os.listdir(os.path.join(CONFIG_DIR, group)))
        if name.endswith(".yaml")
    ]


def _file_leaves(group: str, option: str) -> dict[str, Any]:
    """A group file's values, keyed by their path in the composed config."""
    path = os.path.join(CONFIG_DIR, group, f"{option}.yaml")
    with open(path) as f:
        text = f.read()
    values = yaml.safe_load(text) or {}
    prefix = "" if "@package _global_" in text else f"{group}."
    return _leaves(values, prefix)


def test_config_dir_is_absolute_and_holds_the_primary_config() -> None:
    assert os.path.isabs(CONFIG_DIR)
    assert os.path.isfile(os.path.join(CONFIG_DIR, "config.yaml"))
    assert {g for g, _ in _group_files()} == {"env", "algo", "preset"}
    assert {o for g, o in _group_files() if g == "env"} == set(ENVS)


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("preset", PRESETS)
def test_every_combination_composes_and_validates(env: str, algo: str, preset: str) -> None:
    cfg = compose([f"env={env}", f"algo={algo}", f"preset={preset}"])
    assert isinstance(cfg, RunConfig)
    assert cfg.env.name == env and cfg.algo.variant == algo
    assert cfg.algo.sampler.num_levels == (10 if algo == "nclql" else 1)
    episode_length = 100 if preset == "smoke" else 1000
    assert cfg.env.options == {"episode_length": episode_length}
    assert cfg.train.num_envs == {"paper": 5, "fast": 1024, "smoke": 8}[preset]
    if preset == "paper":
        t = cfg.train
        assert (t.num_envs, t.updates_per_step, t.warmup_steps, t.total_steps) == (5, 1, 30_000, 5_000_000)
        assert (t.eval_every, t.eval_episodes, t.batch_size) == (125_000, 20, 256)


def test_default_composition_is_the_dataclass_defaults() -> None:
    cfg = compose([])
    assert cfg == DEFAULT
    # Field by field: the paper preset and nclql are exactly the dataclass defaults.
    assert cfg.algo == AlgoConfig() and cfg.train == TrainConfig()
    assert cfg.log == LogConfig() and cfg.distributed == DistConfig()
    assert cfg.env == EnvConfig(name="halfcheetah", options={"episode_length": 1000})
    assert compose(["env=halfcheetah", "algo=nclql", "preset=paper"]) == DEFAULT


def test_every_field_is_in_the_composed_config() -> None:
    """The base node carries every dataclass field (nothing is filled in only by from_dict)."""
    raw = _raw([])
    expected = to_dict(DEFAULT)
    assert _leaves(raw) == _leaves(expected)
    assert config_from_hydra(_compose_dictconfig([])) == DEFAULT


def test_lql_differs_only_in_variant_and_sampler_levels_and_step() -> None:
    cfg = compose(["algo=lql"])
    sampler = dataclasses.replace(SamplerConfig(), num_levels=1, steps_per_level=20, eps=3e-3)
    assert cfg.algo == dataclasses.replace(AlgoConfig(), variant="lql", sampler=sampler)
    assert dataclasses.replace(cfg, algo=AlgoConfig()) == DEFAULT
    diff = {k for k, v in _leaves(to_dict(cfg)).items() if _leaves(to_dict(DEFAULT))[k] != v}
    assert diff == {
        "algo.variant",
        "algo.sampler.num_levels",
        "algo.sampler.steps_per_level",
        "algo.sampler.eps",
    }
    # The earlier LQL step size stays one override away.
    assert compose(["algo=lql", "algo.sampler.eps=1e-4"]).algo.sampler.eps == 1e-4


def test_presets_hold_their_protocols() -> None:
    fast = compose(["preset=fast"])
    assert fast.train == dataclasses.replace(
        TrainConfig(),
        num_envs=1024,
        updates_per_step=128,
        warmup_steps=30_720,
        eval_every=262_144,
        chunk_iters=16,
        checkpoint_every=1_048_576,
        batch_size=1024,
    )
    assert fast.algo == AlgoConfig()
    assert fast.env == DEFAULT.env and fast.train.total_steps == 5_000_000

    smoke = compose(["preset=smoke"])
    assert smoke.train == dataclasses.replace(
        TrainConfig(),
        num_envs=8,
        total_steps=4000,
        warmup_steps=800,
        buffer_size=20_000,
        eval_every=1600,
        eval_episodes=4,
        chunk_iters=50,
        checkpoint_every=1600,
        keep_checkpoints=2,
        batch_size=128,
    )
    assert smoke.algo == dataclasses.replace(AlgoConfig(), critic=CriticConfig(hidden_sizes=(128, 128)))
    assert smoke.env.options == {"episode_length": 100}


@pytest.mark.parametrize(("group", "option"), _group_files())
def test_yaml_files_hold_only_deltas(group: str, option: str) -> None:
    """No algo/preset value restates a default (the dataclasses' and the task file's); a task
    file holds its name and episode length only (which makes env.options.episode_length
    overridable without a +)."""
    leaves = _file_leaves(group, option)
    if group == "env":
        assert set(leaves) == {"env.name", "env.options.episode_length"}
        assert leaves["env.name"] == option
        return
    defaults = _leaves(to_dict(DEFAULT))
    for key, value in leaves.items():
        assert key in defaults, f"{group}/{option}.yaml: {key} is not a config field"
        assert value != defaults[key], f"{group}/{option}.yaml restates the default of {key}"


def test_primary_config_states_no_field_values() -> None:
    with open(os.path.join(CONFIG_DIR, "config.yaml")) as f:
        primary = yaml.safe_load(f)
    assert set(primary) == {"defaults", "hydra"}
    assert primary["defaults"][0] == cli_config.BASE_NAME


# Fields that no YAML file names: they exist only through the dataclass defaults.
NOT_IN_YAML = (
    "algo.sampler.unroll",
    "algo.critic.level_hidden_dim",
    "algo.step_mode",
    "log.plot",
    "distributed.coordinator_address",
    "compile_cache",
    "num_seeds",
    "env.physics",
)


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ("algo.sampler.unroll=5", lambda c: c.algo.sampler.unroll == 5),
        ("train.keep_checkpoints=7", lambda c: c.train.keep_checkpoints == 7),
        ("algo.critic.level_hidden_dim=64", lambda c: c.algo.critic.level_hidden_dim == 64),
        ("algo.step_mode=summed", lambda c: c.algo.step_mode == "summed"),
        ("log.plot=false", lambda c: c.log.plot is False),
        ("distributed.coordinator_address=h:1", lambda c: c.distributed.coordinator_address == "h:1"),
        ("compile_cache=null", lambda c: c.compile_cache is None),
        ("num_seeds=3", lambda c: c.num_seeds == 3),
        ("env.options.episode_length=50", lambda c: c.env.options == {"episode_length": 50}),
        ("env.physics=fast", lambda c: c.env.physics == "fast"),
    ],
)
def test_fields_override_without_a_plus(override: str, check: Any) -> None:
    assert check(compose(["env=hopper", "preset=smoke", override]))


def test_some_fields_appear_in_no_yaml() -> None:
    named = {k for g, o in _group_files() for k in _file_leaves(g, o)}
    assert not named & set(NOT_IN_YAML)
    # train.keep_checkpoints is only named by the smoke preset: the others get the default.
    assert compose(["preset=fast", "train.keep_checkpoints=7"]).train.keep_checkpoints == 7


def test_unknown_key_fails_clearly() -> None:
    with pytest.raises(ConfigError, match=r"Could not override 'algo\.nope'.*not in struct"):
        compose(["algo.nope=1"])
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['nope'\] in algo"):
        compose(["+algo.nope=1"])
    with pytest.raises(ConfigError, match="Could not find 'env/nosuch'"):
        compose(["env=nosuch"])
    with pytest.raises(ConfigError, match="sampler.sigma_min"):
        compose(["algo.sampler.sigma_min=0.5"])
    with pytest.raises(ConfigError, match="num_levels must be 1 for variant 'lql'"):
        compose(["algo.variant=lql"])
    with pytest.raises(
        ConfigError, match=r"env.physics must be one of \['faithful', 'gymnasium', 'fast', 'warp'\]"
    ):
        compose(["env.physics=quick"])


def test_physics_tiers_of_the_config_are_the_envs_tiers() -> None:
    """The config's Literal and `envs.model.PHYSICS_TIERS` name the same tiers, in one order."""
    from typing import get_args, get_type_hints

    from envs.model import PHYSICS_TIERS
    from mjx_nclql.core.config import EnvConfig

    assert get_args(get_type_hints(EnvConfig)["physics"]) == PHYSICS_TIERS
    assert EnvConfig().physics == PHYSICS_TIERS[0] == "faithful"


def test_env_physics_reaches_the_task_and_warp_is_refused_before_compiling() -> None:
    from mjx_nclql.runtime.build import make_env

    assert make_env(compose(["env=hopper", "env.physics=fast"])).physics.tier == "fast"
    assert make_env(compose(["env=hopper"])).physics.tier == "faithful"
    with pytest.raises(ConfigError, match="physics 'warp' steps environments .* but does not train yet"):
        make_env(compose(["env=hopper", "env.physics=warp"]))


def test_register_is_idempotent() -> None:
    from hydra.core.config_store import ConfigStore

    register()
    register()
    repo = ConfigStore.instance().repo
    assert [k for k in repo if k.startswith(cli_config.BASE_NAME)] == [f"{cli_config.BASE_NAME}.yaml"]
    assert compose([]) == DEFAULT


def test_hydra_main_runs_the_entry_with_cli_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    from hydra.core.global_hydra import GlobalHydra

    seen: list[RunConfig] = []
    monkeypatch.setattr(sys, "argv", ["train", "env=ant", "algo=lql", "train.keep_checkpoints=7"])
    try:
        hydra_main(lambda dcfg: seen.append(config_from_hydra(dcfg)))
    finally:
        GlobalHydra.instance().clear()
    (cfg,) = seen
    assert cfg == compose(["env=ant", "algo=lql", "train.keep_checkpoints=7"])
    assert cfg.env.name == "ant" and cfg.algo.variant == "lql" and cfg.train.keep_checkpoints == 7
