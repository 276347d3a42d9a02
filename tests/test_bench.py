"""The benchmark command runs end to end at tiny sizes and reports every field."""

from __future__ import annotations

import json
import os

import pytest

from mjx_nclql import bench

FIELDS = {
    "env_steps_per_s_env_only", "actions_per_s_sampler", "updates_per_s_update_only",
    "env_steps_per_s_train", "updates_per_s_train", "train_over_env_only", "share_sampling",
    "share_env", "share_updates", "compile_s", "peak_host_rss_bytes", "protocol_estimate",
    "versions", "device",
}


@pytest.mark.slow
def test_bench_prints_table_and_json(tmp_path, capsys) -> None:
    out = tmp_path / "bench.json"
    profile = tmp_path / "profile"
    code = bench.main(["--env", "probe_bandit", "--preset", "smoke", "--num-seeds", "1,2",
                       "--repeats", "1", "--chunk-iters", "4", "--json", str(out),
                       "--profile", str(profile),
                       "train.num_envs=4", "algo.critic.hidden_sizes=[16,16]"])
    assert code == 0
    traces = [f for _, _, files in os.walk(profile) for f in files if f.endswith(".xplane.pb")]
    assert traces, "no profiler trace written"
    printed = capsys.readouterr().out
    assert "| env | seeds |" in printed and "train/env" in printed
    rows = json.loads(out.read_text())
    assert [r["num_seeds"] for r in rows] == [1, 2]
    for r in rows:
        assert set(r) >= FIELDS
        for key in ("env_steps_per_s_env_only", "actions_per_s_sampler",
                    "updates_per_s_update_only", "env_steps_per_s_train", "updates_per_s_train"):
            assert r[key] > 0
        assert abs(r["share_sampling"] + r["share_env"] + r["share_updates"] - 1) < 1e-9
        # Training does strictly more than stepping the envs.
        assert r["env_steps_per_s_train"] < r["env_steps_per_s_env_only"]
        assert set(r["compile_s"]) == {"init", "env_only", "sampler", "update", "warmup_chunk",
                                       "train_chunk"}


def test_bench_rejects_bad_config(capsys) -> None:
    assert bench.main(["--env", "probe_bandit", "algo.sampler.eps=-1"]) == 2
    assert "sampler.eps" in capsys.readouterr().err
