"""Stopping and resuming: by signal or max_chunks, past a damaged checkpoint, and before the
first checkpoint; the resumed run equals the uninterrupted one."""

from __future__ import annotations

import dataclasses
import json
import os
import signal

import numpy as np
import pytest
from train_fixtures import assert_same_params, probe_config, read_records

from mjx_nclql.runtime.checkpoint import Checkpointer, CheckpointError
from mjx_nclql.runtime.loop import run
from mjx_nclql.runtime.run_dir import write_config


def test_interrupted_and_resumed_run_equals_uninterrupted(reference, tmp_path, capsys) -> None:
    """Stop by SIGTERM after chunk 3, resume, stop again by max_chunks, damage the newest
    checkpoint (as a kill mid-write would), resume: parameters equal the uninterrupted run."""
    cfg = probe_config(str(tmp_path / "r"))

    def send_sigterm(record: dict) -> None:  # as the chunk-3 record is logged
        if record["kind"] == "train" and record["chunk"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    first = run(cfg, progress_fn=send_sigterm)
    assert first.status == "interrupted"
    # The stop is announced when the signal arrives, with how to stop at once.
    assert "SIGTERM received: stopping after the current chunk" in capsys.readouterr().err
    ckpt = Checkpointer(os.path.join(cfg.run_dir, "checkpoints"))
    assert ckpt.steps()[-1] == 3
    second = run(dataclasses.replace(cfg, resume=cfg.run_dir), max_chunks=3)
    assert second.status == "interrupted" and ckpt.steps() == [3, 4, 6]
    # Damage checkpoint 6: its state item loses its data files.
    state_dir = os.path.join(cfg.run_dir, "checkpoints", "6", "state")
    for root, _, files in os.walk(state_dir):
        for f in files:
            if "manifest" in f or f.startswith("d") or "ocdbt" in root:
                os.remove(os.path.join(root, f))
    final = run(dataclasses.replace(cfg, resume=cfg.run_dir))
    assert final.status == "finished"
    assert_same_params(final.state.agent.params, reference.state.agent.params)
    assert_same_params(final.state.agent.target_params, reference.state.agent.target_params)
    # The metrics file has each chunk once, as the uninterrupted run's.
    steps = [r["env_steps"] for r in read_records(cfg.run_dir)]
    assert steps == [r["env_steps"] for r in read_records(reference.run_dir)]


def test_resume_before_the_first_checkpoint_starts_afresh(reference, tmp_path, capsys) -> None:
    """A run killed while compiling has its config (and maybe a few metrics) but no
    checkpoint: `resume=` starts it again from its saved config and ends as the reference."""
    cfg = probe_config(str(tmp_path / "r"))
    os.makedirs(cfg.run_dir)
    write_config(cfg.run_dir, cfg)
    with open(os.path.join(cfg.run_dir, "metrics.jsonl"), "w") as f:
        f.write(json.dumps({"kind": "train", "chunk": 1, "env_steps": 40}) + "\n")
    final = run(dataclasses.replace(probe_config(None), resume=cfg.run_dir))
    assert final.status == "finished"
    assert "starting the run afresh" in capsys.readouterr().out
    assert_same_params(final.state.agent.params, reference.state.agent.params)
    steps = [r["env_steps"] for r in read_records(cfg.run_dir)]
    assert steps == [r["env_steps"] for r in read_records(reference.run_dir)]


def test_missing_checkpoints_give_a_clear_error(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Checkpointer(str(tmp_path / "none")).restore_latest({"a": np.zeros(2)})
