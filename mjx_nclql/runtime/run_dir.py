"""The run directory: where a run's config, metrics, curves and checkpoints live.

    RUN_DIR/config.yaml         the validated config (a resume reads it back)
    RUN_DIR/metrics.jsonl       one record per chunk and per evaluation
    RUN_DIR/provenance.json     commit, package versions and device of each start (provenance.py)
    RUN_DIR/learning_curve.png  evaluation returns against post-warm-up steps
    RUN_DIR/checkpoints/        orbax checkpoints, numbered by chunks done (see checkpoint.py)
    RUN_DIR/rollouts/           with log.render: a rollout page per evaluation (recording.py)

Every file is written atomically (`core.files`), so an interrupted run never leaves a
half-written one. Reading a finished run's checkpoints back is `saved_run.py`'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os

import yaml

from mjx_nclql.core.config import ConfigError, RunConfig, from_dict, to_dict
from mjx_nclql.core.files import write_text
from mjx_nclql.runtime import distributed

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "learning_curve.png"
ROLLOUTS_DIR = "rollouts"


def checkpoint_dir(run_dir: str) -> str:
    return os.path.join(run_dir, "checkpoints")


def load_run_config(run_dir: str) -> RunConfig:
    """The config a run directory was started with."""
    path = os.path.join(run_dir, CONFIG_FILE)
    if not os.path.isfile(path):
        raise ConfigError(f"{path} not found; is {run_dir!r} a run directory?")
    with open(path) as f:
        return from_dict(RunConfig, _upgrade(yaml.safe_load(f)))


def _upgrade(saved: dict) -> dict:
    """A config saved by an older version, in today's layout: `batch_size` used to sit under
    `algo` (it is the training protocol's, under `train`)."""
    algo, train = saved.get("algo") or {}, saved.get("train") or {}
    if "batch_size" in algo and "batch_size" not in train:
        algo = dict(algo)
        saved = {**saved, "algo": algo, "train": {**train, "batch_size": algo.pop("batch_size")}}
    return saved


def for_resume(cfg: RunConfig) -> RunConfig:
    """With `resume=DIR`: the saved config of DIR, but this invocation's process layout and
    compile cache (a run may move to other hosts). Without: `cfg` unchanged."""
    if not cfg.resume:
        return cfg
    resume_dir = os.path.abspath(cfg.resume)
    return dataclasses.replace(
        load_run_config(resume_dir),
        resume=resume_dir,
        run_dir=resume_dir,
        distributed=cfg.distributed,
        compile_cache=cfg.compile_cache,
    )


def open_run_dir(cfg: RunConfig, multi_host: bool) -> str:
    """The run's directory, created; a new run refuses one that already holds a run."""
    if multi_host and not cfg.run_dir:
        raise ConfigError(
            "a multi-host run needs an explicit run_dir= on a filesystem all hosts "
            "share (the default name carries each host's own clock)"
        )
    if cfg.run_dir:
        path = os.path.abspath(cfg.run_dir)
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"{cfg.env.name}-{cfg.algo.variant}-s{cfg.seed}-{stamp}"
        path = os.path.abspath(os.path.join("runs", name))
    if not cfg.resume and os.path.exists(os.path.join(path, CONFIG_FILE)):
        raise ConfigError(
            f"run_dir {path} already holds a run; pass resume={path} to continue it or choose another run_dir"
        )
    distributed.barrier("run_dir checked")  # before process 0 writes into it
    os.makedirs(path, exist_ok=True)
    return path


def write_config(run_dir: str, cfg: RunConfig) -> None:
    write_text(os.path.join(run_dir, CONFIG_FILE), yaml.safe_dump(to_dict(cfg), sort_keys=False))


def truncate_metrics(run_dir: str, max_env_steps: int) -> None:
    """On resume, drop records written after the restored checkpoint (they are redone)."""
    path = os.path.join(run_dir, METRICS_FILE)
    if not os.path.exists(path):
        return
    with open(path) as f:
        keep = [line for line in f if line.strip() and json.loads(line)["env_steps"] <= max_env_steps]
    write_text(path, "".join(keep))
