"""`python -m mjx_nclql.report`: statistics, pooling of seeds and the markdown it writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml
from scipy import stats

from mjx_nclql import reference_scores
from mjx_nclql.config import EnvConfig, RunConfig, to_dict
from mjx_nclql.report import (
    BEGIN,
    END,
    iqm,
    main,
    mean_ci,
    read_run,
    stratified_bootstrap_ci,
)


def _fake_run(path, env: str, seed: int, finals: list[float], num_seeds: int = 1,
              steps=(50_000, 100_000), resumed: bool = False) -> str:
    """A run directory as the trainer writes it: config, train and eval records."""
    os.makedirs(path)
    cfg = RunConfig(env=EnvConfig(name=env), seed=seed, num_seeds=num_seeds)
    with open(os.path.join(path, "config.yaml"), "w") as f:
        yaml.safe_dump(to_dict(cfg), f)
    with open(os.path.join(path, "metrics.jsonl"), "w") as f:
        for i, s in enumerate(steps):
            # wall_time restarts after a resume: 100 s, then a second invocation of 30 s.
            wall = 100.0 if (i == 0 or not resumed) else 30.0
            f.write(json.dumps({"kind": "train", "env_steps": s + 30_000, "post_warmup_steps": s,
                                "updates": s // 5, "wall_time": wall * (i + 1 if not resumed else 1)})
                    + "\n")
            ret = [v * (i + 1) / len(steps) for v in finals]
            f.write(json.dumps({"kind": "eval", "env_steps": s + 30_000, "post_warmup_steps": s,
                                "eval_return_mean": ret}) + "\n")
    return str(path)


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
    d = _fake_run(tmp_path / "a", "hopper", seed=3, finals=[1000.0, 2000.0], num_seeds=2,
                  resumed=True)
    curves = read_run(d)
    assert [c.seed for c in curves] == [3, 4]
    np.testing.assert_allclose(curves[1].returns, [1000.0, 2000.0])
    assert list(curves[0].steps) == [50_000, 100_000] and curves[0].updates == 20_000
    assert curves[0].wall_seconds == pytest.approx(130.0)


def test_report_writes_tables_figures_and_keeps_text_outside_markers(tmp_path, capsys,
                                                                    monkeypatch) -> None:
    monkeypatch.setattr(reference_scores, "SCORES", {
        "halfcheetah": reference_scores.TaskScores(random=0.0, reference=5000.0),
        "hopper": reference_scores.TaskScores(random=0.0, reference=3000.0),
    })
    runs = [_fake_run(tmp_path / f"hc{i}", "halfcheetah", seed=i, finals=[v])
            for i, v in enumerate([3000.0, 3500.0, 4000.0])]
    runs.append(_fake_run(tmp_path / "hop", "hopper", seed=0, finals=[1500.0]))
    with open(os.path.join(runs[-1], "eval.json"), "w") as f:
        json.dump({"evaluations": [{
            "step": 26, "episodes": 20, "post_warmup_steps": 100_000,
            "seeds": [{"seed_index": 0, "mjx": {"return_mean": 1490.0, "return_stderr": 20.0},
                       "gymnasium": {"return_mean": 1510.0, "return_stderr": 25.0},
                       "difference": {"mean": 20.0, "stderr": 32.0, "z": 0.625}}]}]}, f)
    out = tmp_path / "docs" / "results.md"
    out.parent.mkdir()
    out.write_text(f"# Results\n\nhand-written intro\n\n{BEGIN}\nold table\n{END}\n\n## GPU\nlater\n")
    assert main([*runs, "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Results\n\nhand-written intro\n") and text.endswith("## GPU\nlater\n")
    assert "old table" not in text
    half = stats.t.ppf(0.975, 2) * np.std([3000, 3500, 4000], ddof=1) / np.sqrt(3)
    assert f"| halfcheetah | nclql | 3 | 100,000 | 3500.0 ± {half:.1f} |" in text
    assert "| hopper | nclql | 1 | 100,000 | 1500.0 |" in text
    assert "1510.0 ± 25.0 (20 ep., at 100,000)" in text and "+20.0 ± 32.0 (+0.6 se)" in text
    assert (out.parent / "figures" / "curve_halfcheetah.png").read_bytes()[:4] == b"\x89PNG"
    assert "![hopper](figures/curve_hopper.png)" in text
    # Normalised: 0.6, 0.7, 0.8 (halfcheetah) and 0.5 (hopper); the IQM of four scores is the
    # mean of the middle two.
    assert "| nclql | 2 | 4 | 0.650 |" in text
    # Not a run directory: a one-line error and exit code 2.
    assert main([str(tmp_path)]) == 2
    assert "no metrics.jsonl" in capsys.readouterr().err
