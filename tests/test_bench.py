"""The benchmark command runs end to end at tiny sizes and reports every field."""

from __future__ import annotations

import json
import math
import os

import pytest

from mjx_nclql import bench
from mjx_nclql.tools import device_suite
from mjx_nclql.tools.measure import ACCOUNT_PARTS

FIELDS = {
    "env_steps_per_s_env_only",
    "actions_per_s_sampler",
    "updates_per_s_update_only",
    "env_steps_per_s_train",
    "updates_per_s_train",
    "train_over_env_only",
    "share_sampling",
    "share_env",
    "share_updates",
    "compile_s",
    "peak_host_rss_bytes",
    "protocol_estimate",
    "versions",
    "device",
    "matmul_gflop_per_update",
    "matmul_peak_gflops",
    "train_gflops",
    "update_only_gflops",
    "train_fraction_of_peak",
}


@pytest.mark.parametrize("seeds", ["1", pytest.param("1,2", marks=pytest.mark.slow)])
def test_bench_prints_table_and_json(seeds: str, tmp_path, capsys) -> None:
    """On a probe task: one seed count in the quick tier, a table of two in the heavy one."""
    out = tmp_path / "bench.json"
    profile = tmp_path / "profile"
    code = bench.main(
        [
            "--env",
            "probe_bandit",
            "--preset",
            "smoke",
            "--num-seeds",
            seeds,
            "--repeats",
            "1",
            "--chunk-iters",
            "4",
            "--json",
            str(out),
            "--profile",
            str(profile),
            "train.num_envs=4",
            "algo.critic.hidden_sizes=[16,16]",
            "algo.sampler.num_levels=3",
            "algo.sampler.steps_per_level=1",
        ]
    )
    assert code == 0
    traces = [f for _, _, files in os.walk(profile) for f in files if f.endswith(".xplane.pb")]
    assert traces, "no profiler trace written"
    printed = capsys.readouterr().out
    assert "| env | seeds |" in printed and "train/env" in printed
    rows = json.loads(out.read_text())
    assert [r["num_seeds"] for r in rows] == [int(n) for n in seeds.split(",")]
    for r in rows:
        assert set(r) >= FIELDS
        for key in (
            "env_steps_per_s_env_only",
            "actions_per_s_sampler",
            "updates_per_s_update_only",
            "env_steps_per_s_train",
            "updates_per_s_train",
        ):
            assert r[key] > 0
        assert r["matmul_count_exact"] and r["matmul_peak_gflops"] > 0
        assert r["train_fraction_of_peak"] > 0 and r["update_only_fraction_of_peak"] > 0
        assert abs(r["share_sampling"] + r["share_env"] + r["share_updates"] - 1) < 1e-9
        # Training does strictly more than stepping the envs.
        assert r["env_steps_per_s_train"] < r["env_steps_per_s_env_only"]
        assert set(r["compile_s"]) == {"init", "env_only", "sampler", "update", "warmup_chunk", "train_chunk"}


@pytest.mark.slow
def test_bench_account_times_every_part(tmp_path, capsys) -> None:
    """`--account`: every part of a training iteration timed on its own, beside the whole."""
    out = tmp_path / "account.json"
    code = bench.main(
        [
            "--env",
            "probe_bandit",
            "--preset",
            "smoke",
            "--account",
            "--repeats",
            "1",
            "--chunk-iters",
            "4",
            "--json",
            str(out),
            "train.num_envs=4",
            "algo.critic.hidden_sizes=[16,16]",
            "algo.sampler.num_levels=3",
            "algo.sampler.steps_per_level=1",
        ]
    )
    assert code == 0
    (result,) = json.loads(out.read_text())
    parts = result["ms_per_iteration"]
    assert set(parts) == {name for name, _ in ACCOUNT_PARTS}
    assert all(math.isfinite(ms) for ms in parts.values())
    assert result["sum_of_parts_ms"] == pytest.approx(sum(parts.values()))
    assert result["train_iteration_ms"] > 0
    printed = capsys.readouterr().out
    assert "| part | ms per iteration |" in printed and "| NC step |" in printed


def test_bench_rejects_bad_config(capsys) -> None:
    assert bench.main(["--env", "probe_bandit", "algo.sampler.eps=-1"]) == 2
    assert "sampler.eps" in capsys.readouterr().err


@pytest.mark.slow
def test_device_suite_tiny_grid_fills_every_section(tmp_path) -> None:
    """The accelerator campaign, at toy sizes on the CPU: every section gets real numbers,
    and the second start with the compilation cache compiles nothing new."""
    code = bench.main(["--suite", "device", "--grid", "tiny", "--out", str(tmp_path), "--budget", "1200"])
    report = json.loads((tmp_path / "device.json").read_text())
    assert code == 0, report["errors"]
    assert report["skipped"] == [] and report["errors"] == []
    sec = report["sections"]
    assert [(r["batch"], r["seeds"]) for r in sec["update"]] == [(8, 1), (8, 2)]
    assert all(r["ms_per_update"] > 0 and r["updates_per_s"] > 0 for r in sec["update"])
    rows = [(r["env"], r["physics"], r["num_envs"], r["command_buffer"]) for r in sec["physics"]]
    assert rows == [("swimmer", "faithful", 4, False), ("swimmer", "fast", 4, True)]
    assert all(r["ms_per_vector_step"] > 0 and r["env_steps_per_s"] > 0 for r in sec["physics"])
    (train_row,) = sec["train"]
    assert train_row["seeds"] == 2 and train_row["train_updates_per_s"] > 0
    assert abs(train_row["share_sample"] + train_row["share_env"] + train_row["share_update"] - 1) < 1e-9
    starts = {r["start"]: r for r in sec["cache"]}
    assert list(starts) == ["first start", "second start"]
    assert all(r["exit_code"] == 0 for r in starts.values()), starts
    assert starts["first start"]["cache_entries"] > 0
    assert starts["second start"]["cache_entries"] == starts["first start"]["cache_entries"]
    # Programs loaded from the cache compute what freshly compiled ones do.
    returns = [r["final_eval_return"] for r in starts.values()]
    assert math.isfinite(returns[0]) and returns[1] == returns[0], returns
    evals = sec["run"]
    assert evals and all(r["post_warmup_steps"] > 0 and r["eval_return"] == r["eval_return"] for r in evals)
    md = (tmp_path / "device.md").read_text()
    for title in device_suite.SECTIONS.values():
        assert f"## {title}" in md
    assert "(not measured)" not in md and report["machine"]["jax"] in md


def test_device_suite_keeps_partial_results_and_respects_the_budget(tmp_path) -> None:
    """A failing measurement is recorded and the others go on; one that cannot fit in the
    budget is skipped; the report on disk is complete after every item."""
    seen = []

    class Fake(device_suite.Campaign):
        def items(self) -> list[device_suite.Item]:
            def ok() -> dict:
                seen.append(json.loads((tmp_path / "device.json").read_text()))
                return {"batch": 1, "seeds": 1, "ms_per_update": 2.0}

            def broken() -> dict:
                raise RuntimeError("out of memory")

            return [
                device_suite.Item("update", "ok", 1.0, ok),
                device_suite.Item("update", "broken", 1.0, broken),
                device_suite.Item("update", "ok again", 1.0, ok),
                device_suite.Item("physics", "too long", 1e6, ok),
            ]

    report = Fake(str(tmp_path), "tiny", 60.0, "test").run(echo=lambda _: None)
    assert [r["ms_per_update"] for r in report["sections"]["update"]] == [2.0, 2.0]
    assert [e["item"] for e in report["errors"]] == ["update: broken"]
    assert "RuntimeError: out of memory" in report["errors"][0]["error"]
    assert len(report["skipped"]) == 1 and report["skipped"][0].startswith("physics: too long")
    # What the second "ok" saw on disk: the first row and the error were already written.
    assert len(seen[1]["sections"]["update"]) == 1 and len(seen[1]["errors"]) == 1
    on_disk = json.loads((tmp_path / "device.json").read_text())
    assert on_disk["sections"] == report["sections"]
    md = (tmp_path / "device.md").read_text()
    assert "## Skipped (budget)" in md and "update: broken: RuntimeError: out of memory" in md


def test_device_suite_plan_fits_the_physics_and_paper_row_in_eight_minutes(tmp_path) -> None:
    """The full grid's priority list under its timing model (measured compile times): the
    physics rows come first, then the `paper` rows; the physics rows and the 1-seed `paper` row
    fit in the default 480 s budget, and no task/tier pair the grid names is left out."""
    campaign = device_suite.Campaign(str(tmp_path), "full", 480.0, "test")
    items = campaign.items()
    first = len(device_suite.GRIDS["full"].physics_first)
    assert all(i.section == "physics" for i in items[:first])
    assert [i.label for i in items[first : first + 2]] == [
        "halfcheetah paper x1 seeds",
        "halfcheetah paper x5 seeds",
    ]
    planned = sum(i.expected_s for i in items[: first + 1])
    assert planned <= 480.0, planned
    physics = {i.label.split(" +")[0] for i in items if i.section == "physics"}
    for task in ("halfcheetah", "hopper", "humanoid"):
        for tier in ("gymnasium", "faithful", "fast", "warp"):
            for n in (5, 1024, 4096, 16384):
                assert (f"{task} {tier} x{n}" in physics) == ((task, tier) != ("humanoid", "warp"))
    assert device_suite.physics_cost(campaign.grid, "humanoid", False) > campaign.grid.expect_env


def test_device_suite_rejects_bad_arguments(tmp_path, capsys) -> None:
    for argv in (
        ["--suite", "device"],
        ["--suite", "device", "--out", str(tmp_path), "--budget", "0"],
        ["--suite", "device", "--out", str(tmp_path), "train.num_envs=4"],
    ):
        with pytest.raises(SystemExit) as exc:
            bench.main(argv)
        assert exc.value.code == 2
    assert not (tmp_path / "device.json").exists()


def test_bench_samples_the_matmul_rate(tmp_path, capsys) -> None:
    out = tmp_path / "rate.json"
    assert bench.main(["--matmul-rate", "0.01", "--json", str(out)]) == 0
    samples = json.loads(out.read_text())["samples_s_gflops"]
    assert len(samples) == 1 and samples[0][1] > 0
    assert "1 samples: min" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--matmul-rate", "0"])
