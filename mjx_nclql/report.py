"""`python -m mjx_nclql.report RUN_DIR... [--out docs/results.md]`: runs -> results tables.

Reads each run's `config.yaml`, `metrics.jsonl` (in-training MJX evaluations) and, when
present, `eval.json` (`python -m mjx_nclql.evaluate`: the same policy in Gymnasium). Seeds of
the same task and variant are pooled, whether they come from one `num_seeds=N` run or from
several runs. Writes:

* per task and variant: final return, mean over seeds with a 95% confidence interval
  (Student t), and a learning-curve PNG with a 95% band, x in post-warm-up transitions;
* per run: transitions, updates, wall time, MJX return, Gymnasium return and their gap;
* over tasks: the interquartile mean (IQM) of normalised scores with stratified-bootstrap 95%
  intervals (Agarwal et al., 2021, "Deep RL at the Edge of the Statistical Precipice").

If `--out` already holds the markers `<!-- report:begin -->` / `<!-- report:end -->`, only the
text between them is replaced, so hand-written sections around it survive a rerun.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections import defaultdict
from typing import Any

import numpy as np

BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"


class ReportError(RuntimeError):
    """A path that is not a readable run."""


@dataclasses.dataclass
class SeedCurve:
    """One seed's evaluation curve and bookkeeping."""

    run_dir: str
    env: str
    variant: str
    seed: int
    steps: np.ndarray  # post-warm-up transitions at each evaluation
    returns: np.ndarray  # mean evaluation return (MJX, in training) at each
    updates: int
    trained_steps: int  # post-warm-up transitions collected when the run last logged
    wall_seconds: float
    gym: dict[str, Any] | None  # newest Gymnasium evaluation of this seed (eval.json)


def _wall_seconds(train: list[dict[str, Any]]) -> float:
    """Total wall time over all invocations of a run (wall_time restarts at each resume)."""
    total, last = 0.0, 0.0
    for r in train:
        if r["wall_time"] < last:
            total += last
        last = r["wall_time"]
    return total + last


def read_run(run_dir: str) -> list[SeedCurve]:
    """Every seed of one run directory."""
    from mjx_nclql.run_dir import METRICS_FILE, load_run_config

    run_dir = os.path.abspath(run_dir)
    path = os.path.join(run_dir, METRICS_FILE)
    if not os.path.isfile(path):
        raise ReportError(f"{run_dir}: no metrics.jsonl; is it a run directory?")
    try:
        cfg = load_run_config(run_dir)
    except Exception as err:  # noqa: BLE001 - any unreadable config is the same user error
        raise ReportError(f"{run_dir}: unreadable config ({err})") from err
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    train = [r for r in records if r.get("kind") == "train"]
    evals = [r for r in records if r.get("kind") == "eval"]
    steps = np.array([r.get("post_warmup_steps", r["env_steps"]) for r in evals], np.int64)
    per_seed = np.array([r["eval_return_mean"] for r in evals], np.float64).reshape(
        len(evals), cfg.num_seeds)
    gym = _newest_gym(run_dir)
    return [
        SeedCurve(run_dir=run_dir, env=cfg.env.name, variant=cfg.algo.variant, seed=cfg.seed + i,
                  steps=steps, returns=per_seed[:, i],
                  updates=int(train[-1]["updates"]) if train else 0,
                  trained_steps=int(train[-1].get("post_warmup_steps", train[-1]["env_steps"]))
                  if train else 0,
                  wall_seconds=_wall_seconds(train), gym=gym.get(i))
        for i in range(cfg.num_seeds)
    ]


def _newest_gym(run_dir: str) -> dict[int, dict[str, Any]]:
    """seed index -> the newest checkpoint's evaluation with Gymnasium in eval.json."""
    path = os.path.join(run_dir, "eval.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        evaluations = json.load(f).get("evaluations", [])
    out: dict[int, dict[str, Any]] = {}
    for e in sorted(evaluations, key=lambda e: (e["step"], e["episodes"])):
        for row in e["seeds"]:
            if "gymnasium" in row:
                out[row["seed_index"]] = {"step": e["step"], "post_warmup_steps": e["post_warmup_steps"],
                                          "episodes": e["episodes"], **row}
    return out


# ---------------------------------------------------------------------------- statistics


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval (nan for one value)."""
    from scipy import stats

    x = np.asarray(x, np.float64)
    if x.size < 2:
        return float(x.mean()), float("nan")
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def iqm(x: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% (a 25%-trimmed mean)."""
    from scipy import stats

    return float(stats.trim_mean(np.ravel(x), 0.25))


def stratified_bootstrap_ci(scores: list[np.ndarray], statistic: Any = iqm, reps: int = 5000,
                            level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of `statistic` over all (task, seed) scores, resampling seeds with
    replacement within each task (tasks are the strata)."""
    rng = np.random.default_rng(seed)
    values = np.empty(reps)
    for i in range(reps):
        values[i] = statistic(np.concatenate([s[rng.integers(0, s.size, s.size)] for s in scores]))
    lo, hi = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def normalised(env: str, value: float) -> float | None:
    """(R - random) / (reference - random) with the task's scores in `reference_scores`."""
    from mjx_nclql.reference_scores import SCORES

    ref = SCORES.get(env)
    if ref is None or ref.random is None or ref.reference is None:
        return None
    return (value - ref.random) / (ref.reference - ref.random)


# ---------------------------------------------------------------------------- output


def _fmt_ci(mean: float, half: float) -> str:
    return f"{mean:.1f}" if not math.isfinite(half) else f"{mean:.1f} ± {half:.1f}"


def _final(curves: list[SeedCurve]) -> tuple[int, np.ndarray]:
    """The last evaluation step every seed reached, and each seed's return there."""
    common = set(curves[0].steps.tolist())
    for c in curves[1:]:
        common &= set(c.steps.tolist())
    if not common:
        return 0, np.array([])
    step = max(common)
    return step, np.array([c.returns[list(c.steps).index(step)] for c in curves])


def plot_task(env: str, groups: dict[str, list[SeedCurve]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy import stats

    fig, ax = plt.subplots(figsize=(6, 4))
    for variant, curves in sorted(groups.items()):
        common = sorted(set.intersection(*(set(c.steps.tolist()) for c in curves)))
        if not common:
            continue
        y = np.array([[c.returns[list(c.steps).index(s)] for s in common] for c in curves])
        x = np.array(common) / 1e6
        mean = y.mean(0)
        label = f"{variant} ({len(curves)} seed{'s' * (len(curves) > 1)})"
        line = ax.plot(x, mean, lw=2, marker="o", label=label)
        if len(curves) > 1:
            half = stats.t.ppf(0.975, len(curves) - 1) * y.std(0, ddof=1) / math.sqrt(len(curves))
            ax.fill_between(x, mean - half, mean + half, color=line[0].get_color(), alpha=0.2)
    ax.set_xlabel("environment transitions after warm-up (millions)")
    ax.set_ylabel("evaluation return (MJX)")
    ax.set_title(env)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)


def build(curves: list[SeedCurve], out_path: str | None, figures_dir: str | None) -> str:
    """The report's markdown; figures are written into `figures_dir` (linked relative to
    `out_path`)."""
    by_task: dict[str, dict[str, list[SeedCurve]]] = defaultdict(lambda: defaultdict(list))
    for c in curves:
        by_task[c.env][c.variant].append(c)
    lines = ["### Final return per task", "",
             "Mean over seeds of the last evaluation all seeds reached (MJX, in training: "
             "20-episode mean per seed unless the run says otherwise), ± the 95% confidence "
             "half-width (Student t; none for a single seed).", "",
             "| task | variant | seeds | transitions after warm-up | final return |",
             "|---|---|---|---|---|"]
    per_variant_scores: dict[str, list[np.ndarray]] = defaultdict(list)
    for env in sorted(by_task):
        for variant in sorted(by_task[env]):
            group = by_task[env][variant]
            step, finals = _final(group)
            if finals.size == 0:
                lines.append(f"| {env} | {variant} | {len(group)} | - | no common evaluation |")
                continue
            lines.append(f"| {env} | {variant} | {len(group)} | {step:,} | "
                         f"{_fmt_ci(*mean_ci(finals))} |")
            norm = [normalised(env, v) for v in finals]
            if all(n is not None for n in norm):
                per_variant_scores[variant].append(np.array(norm, np.float64))
    lines += ["", "### Runs", "",
              "| run | seed | transitions after warm-up | updates | wall time | MJX return "
              "(training eval) | Gymnasium return (`evaluate`) | MJX return (`evaluate`) | "
              "gym − MJX |",
              "|---|---|---|---|---|---|---|---|---|"]
    for c in sorted(curves, key=lambda c: (c.env, c.variant, c.seed)):
        last = f"{c.returns[-1]:.1f} (at {int(c.steps[-1]):,})" if c.returns.size else "-"
        g = c.gym
        if g:
            gym = (f"{g['gymnasium']['return_mean']:.1f} ± {g['gymnasium']['return_stderr']:.1f} "
                   f"({g['episodes']} ep., at {g['post_warmup_steps']:,})")
            mjx = (f"{g['mjx']['return_mean']:.1f} ± {g['mjx']['return_stderr']:.1f}"
                   if "mjx" in g else "-")
            d = g.get("difference")
            diff = f"{d['mean']:+.1f} ± {d['stderr']:.1f} ({d['z']:+.1f} se)" if d else "-"
        else:
            gym = mjx = diff = "-"
        lines.append(f"| {os.path.basename(c.run_dir)} | {c.seed} | {c.trained_steps:,} | {c.updates:,} | "
                     f"{c.wall_seconds / 3600:.2f} h | {last} | {gym} | {mjx} | {diff} |")
    lines += ["", "### Aggregate over tasks", ""]
    if per_variant_scores:
        lines += ["Interquartile mean of normalised final scores, (R − random) / (reference − "
                  "random) with the scores of `mjx_nclql/reference_scores.py`, and a stratified-"
                  "bootstrap 95% interval (seeds resampled within each task).", "",
                  "| variant | tasks | runs | IQM | 95% interval |", "|---|---|---|---|---|"]
        for variant, scores in sorted(per_variant_scores.items()):
            n = sum(s.size for s in scores)
            lo, hi = stratified_bootstrap_ci(scores)
            interval = f"[{lo:.3f}, {hi:.3f}]" if n > len(scores) else "n/a (one seed per task)"
            lines.append(f"| {variant} | {len(scores)} | {n} | {iqm(np.concatenate(scores)):.3f} | "
                         f"{interval} |")
    else:
        lines.append("No task has both reference scores; nothing to aggregate.")
    if figures_dir:
        os.makedirs(figures_dir, exist_ok=True)
        lines += ["", "### Learning curves", ""]
        base = os.path.dirname(os.path.abspath(out_path)) if out_path else os.getcwd()
        for env in sorted(by_task):
            path = os.path.join(figures_dir, f"curve_{env}.png")
            plot_task(env, by_task[env], path)
            lines.append(f"![{env}]({os.path.relpath(path, base)})")
    return "\n".join(lines) + "\n"


def write(out_path: str, body: str) -> None:
    """Replace the marked block of an existing file, or write a new file; atomically."""
    block = f"{BEGIN}\n{body}{END}\n"
    text = block
    if os.path.exists(out_path):
        with open(out_path) as f:
            old = f.read()
        if BEGIN in old and END in old:
            head, rest = old.split(BEGIN, 1)
            text = head + block + "\n" + rest.split(END, 1)[1].lstrip("\n")
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mjx_nclql.report",
                                     description="Tables and learning curves from run directories.")
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--out", default=None, help="markdown file (default: print)")
    parser.add_argument("--figures", default=None,
                        help="directory for the PNGs (default: figures/ beside --out)")
    args = parser.parse_args(argv)
    try:
        curves = [c for d in args.run_dirs for c in read_run(d)]
    except ReportError as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    figures = args.figures or (os.path.join(os.path.dirname(os.path.abspath(args.out)), "figures")
                               if args.out else None)
    body = build(curves, args.out, figures)
    if args.out:
        write(args.out, body)
        print(f"written: {args.out}")
    else:
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
