"""The run directory: configs saved by older versions still load, in today's layout."""

from __future__ import annotations

import os

import yaml
from train_fixtures import ROOT

from mjx_nclql.core.config import TrainConfig, to_dict
from mjx_nclql.runtime.run_dir import CONFIG_FILE, load_run_config


def test_a_config_saved_with_batch_size_under_algo_loads(tmp_path) -> None:
    saved = os.path.join(ROOT, "docs", "runs", "hopper-nclql-s0")
    with open(os.path.join(saved, CONFIG_FILE)) as f:
        raw = yaml.safe_load(f)
    assert raw["algo"]["batch_size"] == 256 and "batch_size" not in raw["train"]  # the old layout
    cfg = load_run_config(saved)
    assert cfg.train.batch_size == 256 and cfg.train.total_steps == raw["train"]["total_steps"]
    raw["algo"]["batch_size"] = 64
    os.makedirs(tmp_path / "old")
    with open(tmp_path / "old" / CONFIG_FILE, "w") as f:
        yaml.safe_dump(raw, f)
    assert load_run_config(str(tmp_path / "old")).train.batch_size == 64
    # Today's layout is read as written.
    fresh = {
        **raw,
        "algo": {k: v for k, v in raw["algo"].items() if k != "batch_size"},
        "train": to_dict(TrainConfig(batch_size=32)),
    }
    os.makedirs(tmp_path / "new")
    with open(tmp_path / "new" / CONFIG_FILE, "w") as f:
        yaml.safe_dump(fresh, f)
    assert load_run_config(str(tmp_path / "new")).train.batch_size == 32
