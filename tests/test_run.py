"""One training run: its outputs, its compiled functions, and loading its policy."""

from __future__ import annotations

import os

import jax
import numpy as np
import pytest
from train_fixtures import read_records

import mjx_nclql
from mjx_nclql.runtime.checkpoint import Checkpointer


def test_run_writes_outputs_and_traces_each_function_once(reference, reference_traces) -> None:
    d = reference.run_dir
    assert reference.status == "finished"
    assert set(reference_traces.values()) == {1}
    assert set(reference_traces) == {"warmup_chunk", "train_chunk", "evaluate"}
    records = read_records(d)
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    assert [r["env_steps"] for r in train] == [40 * i for i in range(1, 9)]
    assert [r["env_steps"] for r in evals] == [160, 240, 320]
    # Warm-up (2 chunks) is outside the 240-transition budget, as in the reference program.
    assert [r["post_warmup_steps"] for r in train] == [0, 0] + [40 * i for i in range(1, 7)]
    assert all(len(r["eval_return_mean"]) == 2 for r in evals)
    # 6 training chunks x 10 vector steps x 1 update.
    assert train[-1]["updates"] == 60 and train[1]["updates"] == 0
    # The two-step probe: every episode lasts 2 steps.
    assert train[-1]["train_length"] == [2.0, 2.0]
    assert os.path.isfile(os.path.join(d, "config.yaml"))
    assert Checkpointer(os.path.join(d, "checkpoints")).steps() == [4, 6, 8]


def test_loaded_policy_acts_like_the_trained_agent(reference) -> None:
    policy = mjx_nclql.load(reference.run_dir, seed_index=1)
    assert policy.step == 8
    obs = np.array([[1.0, 0.0]] * 4, np.float32)
    key = jax.random.PRNGKey(3)
    params = jax.tree.map(lambda x: x[1], reference.state.agent.params)
    np.testing.assert_array_equal(policy(obs, key), policy.agent.act(params, obs, key))
    with pytest.raises(ValueError, match="expects 2"):
        policy(np.zeros((3,), np.float32), key)
