"""The Hydra side of the configuration: where the YAML lives, the base node, composition.

The dataclasses of `mjx_nclql.core.config` are the single source of every default. `register()`
stores their plain-dict form (`to_dict(RunConfig())`) in Hydra's ConfigStore as the node
`base`, which `configs/config.yaml` lists first in its defaults; the YAML groups (`env/`,
`algo/`, `preset/`) then only state what differs from it. Every field therefore exists in the
composed config and overrides without a leading `+` (Hydra's struct mode still rejects an
unknown key), and the result is validated by turning it back into a `RunConfig`.

The dict form, not a structured config, is stored because OmegaConf's structured configs do
not support the `typing.Literal` fields the dataclasses use; type and range checks happen in
`from_dict` / `__post_init__` instead.

    register()                      idempotent ConfigStore registration of the base node
                                    (also done on import, so a plain hydra.compose works)
    config_from_hydra(dcfg)         a composed DictConfig -> validated RunConfig
    compose(["env=ant", ...])       compose like the CLI (no Hydra app needed) -> RunConfig
    hydra_main(entry)               run a Hydra app on this config; entry gets the DictConfig
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from mjx_nclql.core.config import ConfigError, RunConfig, from_dict, to_dict


def _config_dir() -> str:
    """`configs/` inside an installed package (a wheel maps the repository's top-level
    `configs/` to `mjx_nclql/configs`), else the checkout's top-level `configs/` (editable
    installs, `PYTHONPATH=<checkout>`)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package's root
    for candidate in (os.path.join(here, "configs"), os.path.join(here, os.pardir, "configs")):
        if os.path.isfile(os.path.join(candidate, "config.yaml")):
            return os.path.abspath(candidate)
    raise FileNotFoundError(
        f"mjx_nclql's configs are missing: neither {here}/configs nor the checkout's "
        "configs/ holds config.yaml; reinstall the package (pip install mjx_nclql)"
    )


CONFIG_DIR = _config_dir()
CONFIG_NAME = "config"
BASE_NAME = "base"  # the ConfigStore node holding the dataclass defaults


def base_node() -> dict[str, Any]:
    """The dataclass defaults as the plain nested dict stored for Hydra."""
    return to_dict(RunConfig())


def register() -> None:
    """Store the dataclass defaults as the ConfigStore node `base` (safe to call repeatedly:
    the same node replaces itself)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=BASE_NAME, node=base_node())


def env_overrides(name: str) -> list[str]:
    """The overrides that select env `name`: its `configs/env/` entry for a MuJoCo task; an
    env without a MuJoCo model (an analytic probe) has no entry and replaces the default
    task's name instead."""
    from envs.registry import capabilities

    try:
        has_entry = capabilities(name).mujoco_model
    except ValueError:  # an unknown name: Hydra's message for `env=NAME` lists the valid ones
        has_entry = True
    return [f"env={name}"] if has_entry else [f"env.name={name}"]


def config_from_hydra(dcfg: Any) -> RunConfig:
    """A composed Hydra/OmegaConf config -> validated `RunConfig` (raises `ConfigError`)."""
    from omegaconf import OmegaConf

    return from_dict(RunConfig, OmegaConf.to_container(dcfg, resolve=True))


def compose(overrides: Sequence[str] = ()) -> RunConfig:
    """Compose `configs/config.yaml` with command-line style `overrides`, as the training CLI
    does, and validate it. A bad override (unknown key, unknown group option, syntax) raises
    `ConfigError` with Hydra's message. Not for use inside a running Hydra app (Hydra is then
    already initialised)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException

    register()
    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
            dcfg = hydra_compose(CONFIG_NAME, overrides=list(overrides))
    except HydraException as err:
        message = " ".join(str(err).split())
        if err.__cause__ is not None and str(err.__cause__).strip():
            message += f" ({str(err.__cause__).strip().splitlines()[0]})"
        raise ConfigError(message) from err
    return config_from_hydra(dcfg)


def hydra_main(entry: Callable[[Any], None]) -> None:
    """Register the base node and run `entry(dcfg)` as a Hydra app on `configs/config.yaml`
    (command-line overrides, multirun `-m`, `--cfg job`, ... all as usual)."""
    import hydra

    register()
    hydra.main(version_base=None, config_path=CONFIG_DIR, config_name=CONFIG_NAME)(entry)()
