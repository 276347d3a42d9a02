"""`python -m mjx_nclql.report`: statistics, pooling of seeds and the markdown it writes."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess

import numpy as np
import pytest
import yaml
from scipy import stats

from mjx_nclql.core.config import EnvConfig, RunConfig, to_dict
from mjx_nclql.runtime import provenance
from mjx_nclql.tools import reference_scores
from mjx_nclql.tools.report import (
    BEGIN,
    END,
    SAC_LABEL,
    _by_task,
    build,
    iqm,
    main,
    mean_ci,
    read_run,
    stratified_bootstrap_ci,
    task_figure,
    z_score,
)

DOCS_RUNS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "runs")


def _fake_run(
    path,
    env: str,
    seed: int,
    finals: list[float],
    num_seeds: int = 1,
    steps=(50_000, 100_000),
    resumed: bool = False,
    updates_per_transition: float | None = None,
) -> str:
    """A run directory as the trainer writes it: config, train and eval records (with `updates`
    when `updates_per_transition` is given, as today's trainer writes them)."""
    os.makedirs(path)
    cfg = RunConfig(env=EnvConfig(name=env), seed=seed, num_seeds=num_seeds)
    with open(os.path.join(path, "config.yaml"), "w") as f:
        yaml.safe_dump(to_dict(cfg), f)
    with open(os.path.join(path, "metrics.jsonl"), "w") as f:
        for i, s in enumerate(steps):
            # wall_time restarts after a resume: 100 s, then a second invocation of 30 s.
            wall = 100.0 if (i == 0 or not resumed) else 30.0
            f.write(
                json.dumps(
                    {
                        "kind": "train",
                        "env_steps": s + 30_000,
                        "post_warmup_steps": s,
                        "updates": s // 5,
                        "wall_time": wall * (i + 1 if not resumed else 1),
                    }
                )
                + "\n"
            )
            ret = [v * (i + 1) / len(steps) for v in finals]
            record = {
                "kind": "eval",
                "env_steps": s + 30_000,
                "post_warmup_steps": s,
                "eval_return_mean": ret,
            }
            if updates_per_transition is not None:
                record["updates"] = int(s * updates_per_transition)
            f.write(json.dumps(record) + "\n")
    return str(path)


def _fake_eval(
    run: str, checkpoints: dict[int, list[tuple[float, float, float, float]]], updates_per_transition: float
) -> None:
    """eval.json as `evaluate --all` writes it: transitions -> per seed (MJX mean, MJX se,
    Gymnasium mean, Gymnasium se), 20 episodes each."""

    def summary(mean: float, se: float) -> dict:
        return {
            "n": 20,
            "return_mean": mean,
            "return_std": se * np.sqrt(20),
            "return_stderr": se,
            "length_mean": 1000.0,
            "nonfinite": 0,
        }

    evaluations = [
        {
            "episodes": 20,
            "key": 0,
            "num_particles": 1,
            "step": step,
            "chunk": step // 5,
            "post_warmup_steps": step,
            "updates": int(step * updates_per_transition),
            "seeds": [
                {"seed_index": i, "seed": i, "mjx": summary(m, ms), "gymnasium": summary(g, gs)}
                for i, (m, ms, g, gs) in enumerate(rows)
            ],
        }
        for step, rows in checkpoints.items()
    ]
    with open(os.path.join(run, "eval.json"), "w") as f:
        json.dump({"env": "hopper", "variant": "nclql", "evaluations": evaluations}, f)


def _three_seed_hopper(tmp_path) -> str:
    """One `num_seeds=3` hopper run, evaluated every 12.5k transitions up to 50k, 2 updates per 5
    transitions in its records, Gymnasium at 25k and 50k."""
    run = _fake_run(
        tmp_path / "hopper3",
        "hopper",
        seed=0,
        finals=[1000.0, 1300.0, 1900.0],
        num_seeds=3,
        steps=(12_500, 25_000, 37_500, 50_000),
        updates_per_transition=0.4,
    )
    _fake_eval(
        run,
        {
            25_000: [(505.0, 10.0, 510.0, 12.0), (640.0, 9.0, 640.0, 11.0), (955.0, 20.0, 960.0, 25.0)],
            50_000: [
                (1001.0, 30.0, 1020.0, 40.0),
                (1290.0, 10.0, 1400.0, 20.0),
                (1890.0, 50.0, 1880.0, 60.0),
            ],
        },
        updates_per_transition=0.4,
    )
    return run


def _row(text: str, prefix: str) -> str:
    rows = [line for line in text.splitlines() if line.startswith(prefix)]
    assert len(rows) == 1, (prefix, rows)
    return rows[0]


def _sac(value: tuple[float, float]) -> str:
    return f"{value[0]:.1f} ± {value[1]:.1f}"


def test_mean_ci_is_the_student_t_interval() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0])
    mean, half = mean_ci(x)
    assert mean == pytest.approx(3.5)
    assert half == pytest.approx(stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2.0)
    assert np.isnan(mean_ci(np.array([3.0]))[1])


def test_iqm_and_stratified_bootstrap() -> None:
    # IQM of 1..8: the middle half 3, 4, 5, 6.
    assert iqm(np.arange(1, 9, dtype=float)) == pytest.approx(4.5)
    # The 25%-trimmed mean ignores the outliers entirely.
    assert iqm(np.array([0.0, 1.0, 1.0, 100.0])) == pytest.approx(1.0)
    same = [np.full(5, 0.3), np.full(5, 0.7)]
    assert stratified_bootstrap_ci(same, reps=200) == pytest.approx((0.5, 0.5))
    rng = np.random.default_rng(0)
    scores = [rng.normal(1.0, 0.1, 10), rng.normal(2.0, 0.1, 10)]
    lo, hi = stratified_bootstrap_ci(scores, reps=2000)
    assert lo < iqm(np.concatenate(scores)) < hi and hi - lo < 0.4


def test_read_run_pools_seeds_and_sums_wall_time_over_resumes(tmp_path) -> None:
    d = _fake_run(tmp_path / "a", "hopper", seed=3, finals=[1000.0, 2000.0], num_seeds=2, resumed=True)
    curves = read_run(d)
    assert [c.seed for c in curves] == [3, 4]
    np.testing.assert_allclose(curves[1].returns, [1000.0, 2000.0])
    assert list(curves[0].steps) == [50_000, 100_000] and curves[0].updates == 20_000
    assert curves[0].wall_seconds == pytest.approx(130.0)


def test_report_writes_tables_figures_and_keeps_text_outside_markers(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(
        reference_scores,
        "SCORES",
        {
            "halfcheetah": reference_scores.TaskScores(random=0.0, reference=5000.0),
            "hopper": reference_scores.TaskScores(random=0.0, reference=3000.0, zero_action=150.0),
        },
    )
    runs = [
        _fake_run(tmp_path / f"hc{i}", "halfcheetah", seed=i, finals=[v])
        for i, v in enumerate([3000.0, 3500.0, 4000.0])
    ]
    runs.append(_fake_run(tmp_path / "hop", "hopper", seed=0, finals=[1500.0]))
    with open(os.path.join(runs[-1], "eval.json"), "w") as f:
        json.dump(
            {
                "evaluations": [
                    {
                        "step": 26,
                        "episodes": 20,
                        "post_warmup_steps": 100_000,
                        "seeds": [
                            {
                                "seed_index": 0,
                                "mjx": {"return_mean": 1490.0, "return_stderr": 20.0},
                                "gymnasium": {"return_mean": 1510.0, "return_stderr": 25.0},
                                "difference": {"mean": 20.0, "stderr": 32.0, "z": 0.625},
                            }
                        ],
                    }
                ]
            },
            f,
        )
    out = tmp_path / "docs" / "results.md"
    out.parent.mkdir()
    out.write_text(f"# Results\n\nhand-written intro\n\n{BEGIN}\nold table\n{END}\n\n## GPU\nlater\n")
    assert main([*runs, "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Results\n\nhand-written intro\n") and text.endswith("## GPU\nlater\n")
    assert "old table" not in text
    half = stats.t.ppf(0.975, 2) * np.std([3000, 3500, 4000], ddof=1) / np.sqrt(3)
    # Beside each final return: random actions' and the zero action's ("-": not measured).
    assert f"| halfcheetah | nclql | 3 | 100,000 | 3500.0 ± {half:.1f} | 0.0 | - |" in text
    assert "| hopper | nclql | 1 | 100,000 | 1500.0 | 0.0 | 150.0 |" in text
    assert "1510.0 ± 25.0 (20 ep., at 100,000)" in text and "+20.0 ± 32.0 (+0.6 se)" in text
    assert (out.parent / "figures" / "curve_halfcheetah.png").read_bytes()[:4] == b"\x89PNG"
    assert "![hopper](figures/curve_hopper.png)" in text
    # Two tasks: too few for an aggregate, which says so instead of printing a number.
    assert (
        "nclql: left out, the IQM of normalised scores needs at least 3 tasks of at least 3 "
        "seeds each (here 2 task(s), seeds per task: 3, 1)." in text
    )
    assert "| variant | tasks | runs | IQM |" not in text
    # Not a run directory: a one-line error and exit code 2.
    assert main([str(tmp_path)]) == 2
    assert "no metrics.jsonl" in capsys.readouterr().err


def test_report_refuses_an_unmarked_out_file_unless_forced(tmp_path, capsys) -> None:
    """`--out README.md` must not wipe a hand-written file: exit 2, one line, nothing written
    (not even the figures); --force replaces it whole."""
    run = _fake_run(tmp_path / "hop", "hopper", seed=0, finals=[1500.0])
    readme = tmp_path / "README.md"
    readme.write_text("# My project\n\nprecious text\n")
    half_marked = tmp_path / "half.md"
    half_marked.write_text(f"intro\n{BEGIN}\nno end marker\n")
    for out in (readme, half_marked):
        before = out.read_text()
        assert main([run, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("report: ") and err.count("\n") == 1
        assert "--force" in err and BEGIN in err and str(out) in err
        assert out.read_text() == before
    assert not (tmp_path / "figures").exists() and not list(tmp_path.glob("*.tmp"))
    assert main([run, "--out", str(readme), "--force"]) == 0
    text = readme.read_text()
    assert "precious text" not in text and text.startswith(BEGIN) and "| hopper | nclql |" in text
    assert main([run, "--out", str(readme)]) == 0  # now it has the markers: updated in place


def test_gathering_outside_git_says_unknown_and_never_fails(tmp_path) -> None:
    assert provenance.git_state(str(tmp_path)) == ("unknown", None)
    entry = provenance.gather(str(tmp_path), device=False)
    assert entry["commit"] == "unknown" and entry["dirty"] is None and not entry["resumed"]
    assert entry["python"] == platform.python_version() and "device" not in entry
    assert set(entry["packages"]) == set(provenance.PACKAGES)
    import jax
    import mujoco

    assert entry["packages"]["jax"] == jax.__version__
    assert entry["packages"]["mujoco"] == mujoco.__version__
    assert entry["packages"]["mjx_nclql"] != "unknown"
    assert provenance.package_versions(("no-such-package-xyz",)) == {"no-such-package-xyz": "unknown"}
    assert provenance.git_state(str(tmp_path / "missing")) == ("unknown", None)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_gathering_in_a_checkout_records_head_and_modifications(tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "code.py").write_text("x = 1\n")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(src), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    assert provenance.git_state(str(src)) == ("unknown", None)  # no commit yet
    git("add", "code.py")
    git("commit", "-q", "-m", "first")
    head = git("rev-parse", "HEAD")
    assert provenance.git_state(str(src)) == (head, False)
    (src / "code.py").write_text("x = 2\n")
    assert provenance.git_state(str(src)) == (head, True)
    (src / "untracked").mkdir()  # a directory the checkout does not track: not its source
    assert provenance.git_state(str(src / "untracked")) == ("unknown", None)


def test_record_keeps_the_first_start_and_appends_resumes(tmp_path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert provenance.read(str(run_dir)) == []
    first = provenance.record(str(run_dir), resumed=False, source_dir=str(tmp_path))
    provenance.record(str(run_dir), resumed=True, source_dir=str(tmp_path))
    starts = provenance.read(str(run_dir))
    assert [s["resumed"] for s in starts] == [False, True] and starts[0] == first
    import jax

    assert starts[0]["device"] == {
        "backend": jax.default_backend(),
        "kind": jax.devices()[0].device_kind,
        "count": jax.device_count(),
        "process_count": 1,
    }
    assert os.listdir(run_dir) == [provenance.PROVENANCE_FILE]  # no temporary file left


def test_report_shows_each_runs_provenance_or_unknown(tmp_path) -> None:
    new = _fake_run(tmp_path / "new", "hopper", seed=0, finals=[1500.0])
    old = _fake_run(tmp_path / "old", "hopper", seed=1, finals=[1400.0])  # predates the file
    start = {
        "commit": "0123456789abcdef0123",
        "dirty": False,
        "resumed": False,
        "packages": {"jax": "0.10.2", "mujoco": "3.17.0"},
        "device": {"backend": "gpu", "kind": "NVIDIA H200", "count": 1, "process_count": 1},
    }
    resumed = {**start, "resumed": True, "commit": "fedcba9876543210fedc", "dirty": True}
    with open(os.path.join(new, provenance.PROVENANCE_FILE), "w") as f:
        json.dump({"starts": [start, resumed]}, f)
    (tmp_path / "broken").mkdir()
    assert provenance.read(str(tmp_path / "broken")) == []
    out = tmp_path / "results.md"
    assert main([new, old, "--out", str(out)]) == 0
    rows = {
        line.split(" | ")[0].lstrip("| "): line
        for line in out.read_text().splitlines()
        if line.startswith(("| new |", "| old |"))
    }
    assert rows["new"].endswith(
        "| 0123456789ab → fedcba987654-dirty | 0.10.2 | 3.17.0 | NVIDIA H200 x1 (gpu) |"
    )
    assert rows["old"].endswith("| unknown | unknown | unknown | unknown |")
    assert "| commit | jax | mujoco | device |" in out.read_text()


def test_points_table_has_t_intervals_gymnasium_and_sac_at_both_x(tmp_path) -> None:
    """Three seeds: each evaluation point on both axes, the mean ± Student-t half-width over
    seeds, Gymnasium where eval.json has the checkpoint, SAC at equal transitions and updates."""
    text = build(read_run(_three_seed_hopper(tmp_path)), None, None)
    # At 25k transitions the seeds return half their final value: 500, 650, 950 (mean 700); the
    # sample variance is (200² + 50² + 250²) / 2 = 52,500; t(0.975, 2 dof) = 4.3027.
    half = 4.302652729911275 * math.sqrt(52_500) / math.sqrt(3)
    assert half == pytest.approx(stats.t.ppf(0.975, 2) * np.std([500, 650, 950], ddof=1) / np.sqrt(3))
    gym = np.array([510.0, 640.0, 960.0])
    gym_half = stats.t.ppf(0.975, 2) * gym.std(ddof=1) / np.sqrt(3)
    # The records say 2 updates per 5 transitions (not the config's 1 per 5): 25k -> 10k updates.
    sac_t, sac_u = reference_scores.sac_at_transitions, reference_scores.sac_at_updates
    assert _row(text, "| hopper | nclql | 25,000 |") == (
        f"| hopper | nclql | 25,000 | 10,000 | 700.0 ± {half:.1f} (n=3) | "
        f"{gym.mean():.1f} ± {gym_half:.1f} (n=3) | {_sac(sac_t('hopper', 25_000))} | "
        f"{_sac(sac_u('hopper', 10_000))} |"
    )
    # Between SAC's rows (35k: 535.254, 40k: 1029.6053) the curve is interpolated linearly; no
    # Gymnasium evaluation at 37.5k.
    assert sac_t("hopper", 37_500)[0] == pytest.approx((535.254 + 1029.6053) / 2)
    assert _row(text, "| hopper | nclql | 37,500 |").endswith(
        f"| 15,000 | 1050.0 ± {stats.t.ppf(0.975, 2) * np.std([750, 975, 1425], ddof=1) / np.sqrt(3):.1f}"
        f" (n=3) | - | {_sac(sac_t('hopper', 37_500))} | {_sac(sac_u('hopper', 15_000))} |"
    )
    assert "SAC at equal transitions is Tianshou's curve at env_step = the row's transitions" in text
    assert "at env_step = the row's updates" in text


def test_simulator_gap_in_standard_errors_is_flagged_beyond_three(tmp_path) -> None:
    run = _three_seed_hopper(tmp_path)
    with open(os.path.join(run, "eval.json")) as f:  # seed 0's final row carries distances
        record = json.load(f)
    final = record["evaluations"][-1]["seeds"][0]
    final["mjx"]["distance_mean"], final["gymnasium"]["distance_mean"] = 1.234, -0.5
    with open(os.path.join(run, "eval.json"), "w") as f:
        json.dump(record, f)
    text = build(read_run(run), None, None)
    # The final checkpoint (50k), not the one at 25k: seed 1, MJX 1290 ± 10, gym 1400 ± 20.
    z = (1400.0 - 1290.0) / math.sqrt(10.0**2 + 20.0**2)
    assert z == pytest.approx(4.919, abs=1e-3)
    assert _row(text, "| hopper | nclql | hopper3 | 1 |") == (
        f"| hopper | nclql | hopper3 | 1 | 50,000 | 20 | 1290.0 ± 10.0 | 1400.0 ± 20.0 | +110.0 | "
        f"{z:+.2f} | **yes** | - |"
    )
    assert _row(text, "| hopper | nclql | hopper3 | 0 |").endswith(
        f"| +19.0 | {19.0 / 50.0:+.2f} | no | 1.23 / -0.50 |"
    )
    # The runs table computes the same gap where eval.json's row does not carry it.
    assert "| 1290.0 ± 10.0 | +110.0 ± 22.4 (+4.9 se) |" in _row(text, "| hopper3 | 1 |")
    assert z_score(1.0, 0.0, 1.0, 0.0) == 0.0 and z_score(2.0, 0.0, 1.0, 0.0) == math.inf


def test_figure_has_both_axes_with_sac_matched_to_each(tmp_path) -> None:
    run = _three_seed_hopper(tmp_path)
    fig = task_figure("hopper", _by_task(read_run(run))["hopper"])
    assert len(fig.axes) == 2
    transitions, updates = fig.axes
    assert "transitions" in transitions.get_xlabel() and "updates" in updates.get_xlabel()
    for ax, fn, xmax, x in (
        (transitions, reference_scores.sac_at_transitions, 50_000, 25_000),
        (updates, reference_scores.sac_at_updates, 20_000, 10_000),
    ):
        lines = {line.get_label(): line for line in ax.get_lines()}
        sac = next(line for label, line in lines.items() if label.startswith(SAC_LABEL))
        xs, ys = np.asarray(sac.get_xdata()), np.asarray(sac.get_ydata())
        assert xs.max() == pytest.approx(xmax * 1.1)  # the runs' range plus the margin only
        assert ys[xs == x][0] == pytest.approx(fn("hopper", x)[0])
        assert lines["random policy"].get_ydata()[0] == reference_scores.SCORES["hopper"].random
        assert lines["zero action"].get_ydata()[0] == reference_scores.SCORES["hopper"].zero_action
        mean = lines["nclql, mean of 3 seeds ± 95% CI"]
        assert list(mean.get_xdata()) == (
            [12_500, 25_000, 37_500, 50_000] if ax is transitions else [5_000, 10_000, 15_000, 20_000]
        )
        assert sum(line.get_alpha() == 0.3 for line in ax.get_lines()) == 3  # each seed, faint
        assert "nclql, each seed" in lines
    out = tmp_path / "results.md"
    assert main([run, "--out", str(out)]) == 0
    png = (tmp_path / "figures" / "curve_hopper.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1100, 400)


def test_aggregate_needs_three_tasks_of_three_seeds(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(
        reference_scores,
        "SCORES",
        {
            env: reference_scores.TaskScores(random=0.0, reference=1000.0)
            for env in ("halfcheetah", "hopper", "walker2d")
        },
    )
    finals = {
        "hopper": [50.0, 250.0, 330.0],
        "walker2d": [410.0, 520.0, 640.0],
        "halfcheetah": [700.0, 870.0, 2000.0],
    }
    curves = {
        env: read_run(_fake_run(tmp_path / env, env, seed=0, finals=v, num_seeds=3))
        for env, v in finals.items()
    }
    two = build(curves["hopper"] + curves["walker2d"], None, None)
    assert (
        "nclql: left out, the IQM of normalised scores needs at least 3 tasks of at least 3 "
        "seeds each (here 2 task(s), seeds per task: 3, 3)." in two
    )
    assert "| variant | tasks | runs | IQM |" not in two
    three = build([c for v in curves.values() for c in v], None, None)
    # Normalised 0.05 0.25 0.33 0.41 0.52 0.64 0.70 0.87 2.00: the 25%-trimmed mean of nine drops
    # two at each end, (0.33 + 0.41 + 0.52 + 0.64 + 0.70) / 5 = 0.52.
    assert "| nclql | 3 | 9 | 0.520 | [" in three and "left out" not in three


def test_the_single_seed_runs_in_docs_still_report(tmp_path) -> None:
    single = ("halfcheetah-nclql-s0", "hopper-nclql-s0")  # the 150k runs; the campaign's pool apart
    before = {d: sorted(os.listdir(os.path.join(DOCS_RUNS, d))) for d in single}
    runs = []
    for name in sorted(before):
        shutil.copytree(os.path.join(DOCS_RUNS, name), tmp_path / "runs" / name)
        runs.append(str(tmp_path / "runs" / name))
    out = tmp_path / "results.md"
    assert main([*runs, "--out", str(out)]) == 0
    text = out.read_text()
    assert "| halfcheetah | nclql | 1 | 150,000 | 3662.2 | -275.5 |" in text
    assert "| hopper | nclql | 1 | 150,000 | 304.8 | 19.0 |" in text
    sac_t = _sac(reference_scores.sac_at_transitions("hopper", 150_000))
    sac_u = _sac(reference_scores.sac_at_updates("hopper", 30_000))
    assert _row(text, "| hopper | nclql | 150,000 |") == (
        f"| hopper | nclql | 150,000 | 30,000 | 304.8 (n=1) | 304.6 (n=1) | {sac_t} | {sac_u} |"
    )
    # HalfCheetah's Gymnasium evaluation is at 155k, a checkpoint without a training evaluation.
    assert _row(text, "| halfcheetah | nclql | 155,000 |").startswith(
        "| halfcheetah | nclql | 155,000 | 31,000 | - | 3826.4 (n=1) |"
    )
    assert _row(text, "| halfcheetah | nclql | halfcheetah-nclql-s0 | 0 |").endswith("| -0.26 | no | - |")
    assert _row(text, "| hopper-nclql-s0 | 0 |") == (
        "| hopper-nclql-s0 | 0 | 150,000 | 30,000 | 2.01 h | 304.8 (at 150,000) | 304.6 ± 1.1 "
        "(20 ep., at 150,000) | 305.3 ± 0.7 | -0.7 ± 1.3 (-0.5 se) | unknown | unknown | unknown | "
        "unknown |"
    )
    assert "seeds per task: 1, 1)." in text
    assert (tmp_path / "figures" / "curve_hopper.png").read_bytes()[:4] == b"\x89PNG"
    assert {d: sorted(os.listdir(os.path.join(DOCS_RUNS, d))) for d in single} == before
