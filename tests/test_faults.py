"""Faults and bad input: refused before any compile, or stopped with the last good checkpoint."""

from __future__ import annotations

import dataclasses
import os

import jax
import pytest
from train_fixtures import probe_config

from mjx_nclql.core.config import ConfigError, RunConfig, from_dict
from mjx_nclql.runtime.checkpoint import Checkpointer
from mjx_nclql.runtime.loop import NonFiniteError, run


def test_buffer_larger_than_memory_is_refused() -> None:
    cfg = from_dict(
        RunConfig, {"env": {"name": "humanoid"}, "num_seeds": 1000, "train": {"buffer_size": 10_000_000}}
    )
    with pytest.raises(ConfigError, match="buffer_size"):
        run(cfg)


def test_seeds_must_split_over_requested_devices(tmp_path) -> None:
    cfg = probe_config(str(tmp_path / "r"), devices=len(jax.devices()) + 1)
    with pytest.raises(ConfigError, match="devices"):
        run(cfg)


def test_existing_run_dir_is_not_overwritten(reference) -> None:
    with pytest.raises(ConfigError, match="resume="):
        run(probe_config(reference.run_dir))


def test_non_finite_training_stops_and_keeps_last_good_checkpoint(tmp_path) -> None:
    cfg = probe_config(str(tmp_path / "r"))
    cfg = dataclasses.replace(cfg, algo=dataclasses.replace(cfg.algo, lr=1e38))
    with pytest.raises(NonFiniteError, match="non-finite"):
        run(cfg)
    steps = Checkpointer(os.path.join(cfg.run_dir, "checkpoints")).steps()
    # Warm-up ends at chunk 2 (checkpointed); training diverges in chunk 3, never saved.
    assert steps == [2]
