"""`python -m mjx_nclql.report RUN_DIR... [--out docs/results.md]`: runs -> results tables.

Reads each run's `config.yaml`, `metrics.jsonl` (in-training MJX evaluations) and, when
present, `eval.json` (`python -m mjx_nclql.evaluate [--all]`: the same policy on MJX and in
Gymnasium, per checkpoint and seed). Seeds of the same task and variant are pooled, whether they
come from one `num_seeds=N` run or from several runs. Writes:

* per task and variant: final return, mean over seeds with a 95% confidence interval
  (Student t; one seed: none), beside the returns of random actions and of the zero action, so
  "does it learn" is one look;
* per evaluation point: transitions after warm-up (the paper's axis) and gradient updates, the
  MJX and Gymnasium returns as mean ± 95% CI (n seeds), and published SAC at equal transitions
  and at equal updates (`reference_scores.sac_at_transitions` / `sac_at_updates`), so the
  learning per update can be judged apart from the data budget;
* per task, a two-panel learning-curve PNG (transitions | updates): each seed faint, the mean
  with its 95% band, SAC's published mean ± std, random actions and the zero action;
* per seed: MJX against Gymnasium at its final evaluated checkpoint, the gap in standard errors,
  flagged beyond 3;
* per run: transitions, updates, wall time, returns, and what produced it: commit, jax and
  mujoco versions, device (`provenance.json`; "unknown" for runs that predate it);
* over tasks, with at least 3 tasks of at least 3 seeds each: the interquartile mean (IQM) of
  normalised scores with stratified-bootstrap 95% intervals (Agarwal et al., 2021, "Deep RL at
  the Edge of the Statistical Precipice"); with fewer it is left out, since the IQM would trim
  nothing and the bootstrap would have almost nothing to resample.

If `--out` already holds the markers `<!-- report:begin -->` / `<!-- report:end -->`, only the
text between them is replaced, so hand-written sections around it survive a rerun. An existing
file without them is left alone (exit 2) unless `--force` says to replace it whole.

    python -m mjx_nclql.report runs/hopper-nclql-s0 runs/halfcheetah-nclql-s0   # print
    python -m mjx_nclql.report docs/runs/* --out docs/results.md                 # the marked block
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from mjx_nclql.core.errors import MjxNclqlError
from mjx_nclql.core.files import atomic_path, write_text
from mjx_nclql.runtime import provenance
from mjx_nclql.tools.cli_help import command_parser

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BEGIN, END = "<!-- report:begin -->", "<!-- report:end -->"
AGGREGATE_MIN_TASKS = 3  # fewer: a 25%-trimmed mean trims nothing worth the name
AGGREGATE_MIN_SEEDS = 3  # per task; fewer: the stratified bootstrap has almost nothing to resample
Z_FLAG = 3.0  # |gym - MJX| beyond this many standard errors is more than sampling noise
SAC_LABEL = "SAC (Tianshou, 10 seeds)"
SAC_MARGIN = 0.1  # the SAC curve is drawn to 10% beyond the runs' last x, so the runs stay readable


class ReportError(MjxNclqlError, RuntimeError):
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
    provenance: dict[str, str] = dataclasses.field(  # commit, jax, mujoco, device (provenance.py)
        default_factory=lambda: provenance.summary([])
    )
    update_counts: np.ndarray = dataclasses.field(  # gradient updates at each evaluation
        default_factory=lambda: np.zeros(0, np.int64)
    )
    checkpoints: dict[int, dict[str, Any]] = dataclasses.field(  # transitions -> eval.json row
        default_factory=dict
    )


ByTask = dict[str, dict[str, list[SeedCurve]]]  # task -> variant -> its seeds


def _wall_seconds(train: list[dict[str, Any]]) -> float:
    """Total wall time over all invocations of a run (wall_time restarts at each resume)."""
    total, last = 0.0, 0.0
    for r in train:
        if r["wall_time"] < last:
            total += last
        last = r["wall_time"]
    return total + last


def _updates_at(cfg: Any, transitions: int) -> int:
    """Updates after `transitions` post-warm-up transitions per seed, for records that predate
    the `updates` field: one vector step is num_envs transitions and updates_per_step updates."""
    return transitions // cfg.train.num_envs * cfg.train.updates_per_step


def _eval_points(evals: list[dict[str, Any]], cfg: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(transitions, updates, returns per seed) at each evaluation, in step order; a step logged
    twice (a resume that repeats an evaluation) counts once, its last record."""
    by_step: dict[int, tuple[int, list[float]]] = {}
    for r in evals:
        step = int(r.get("post_warmup_steps", r["env_steps"]))
        by_step[step] = (int(r.get("updates", _updates_at(cfg, step))), r["eval_return_mean"])
    steps = sorted(by_step)
    returns = np.array([by_step[s][1] for s in steps], np.float64).reshape(len(steps), cfg.num_seeds)
    return (np.array(steps, np.int64), np.array([by_step[s][0] for s in steps], np.int64), returns)


def read_run(run_dir: str) -> list[SeedCurve]:
    """Every seed of one run directory."""
    from mjx_nclql.runtime.run_dir import METRICS_FILE, load_run_config

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
    steps, update_counts, per_seed = _eval_points([r for r in records if r.get("kind") == "eval"], cfg)
    rows = _checkpoint_rows(run_dir)
    for seed_rows in rows.values():
        for step, row in seed_rows.items():
            row["updates"] = int(row["updates"]) if row.get("updates") is not None else _updates_at(cfg, step)
    origin = provenance.summary(provenance.read(run_dir))
    return [
        SeedCurve(
            run_dir=run_dir,
            env=cfg.env.name,
            variant=cfg.algo.variant,
            seed=cfg.seed + i,
            steps=steps,
            returns=per_seed[:, i],
            updates=int(train[-1]["updates"]) if train else 0,
            trained_steps=int(train[-1].get("post_warmup_steps", train[-1]["env_steps"])) if train else 0,
            wall_seconds=_wall_seconds(train),
            gym=_newest_gym(rows.get(i, {})),
            provenance=origin,
            update_counts=update_counts,
            checkpoints=rows.get(i, {}),
        )
        for i in range(cfg.num_seeds)
    ]


def _checkpoint_rows(run_dir: str) -> dict[int, dict[int, dict[str, Any]]]:
    """seed index -> {post-warm-up transitions: that seed's eval.json row}. Of several evaluations
    of one checkpoint the most useful counts: both simulators first, then more episodes, then the
    later entry."""
    path = os.path.join(run_dir, "eval.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        evaluations = json.load(f).get("evaluations", [])
    out: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)

    def rank(row: dict[str, Any]) -> tuple[bool, bool, int]:
        return ("gymnasium" in row, "mjx" in row, row["episodes"])

    # post_warmup_steps: the same in eval.json's older entries ("step" was the chunk) and newer
    for e in evaluations:
        step = int(e["post_warmup_steps"])
        for row in e["seeds"]:
            new = {"post_warmup_steps": step, "episodes": e["episodes"], "updates": e.get("updates"), **row}
            old = out[row["seed_index"]].get(step)
            if old is None or rank(new) >= rank(old):
                out[row["seed_index"]][step] = new
    return dict(out)


def _newest_gym(rows: dict[int, dict[str, Any]]) -> dict[str, Any] | None:
    """The newest checkpoint's row that has a Gymnasium evaluation."""
    steps = [s for s, row in rows.items() if "gymnasium" in row]
    return rows[max(steps)] if steps else None


# ---------------------------------------------------------------------------- statistics


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval (nan for one value)."""
    from scipy import stats

    x = np.asarray(x, np.float64)
    if x.size < 2:
        return float(x.mean()), float("nan")
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def z_score(gym_mean: float, gym_se: float, mjx_mean: float, mjx_se: float) -> float:
    """(gym - MJX) / sqrt(se_MJX^2 + se_gym^2): the simulators' gap in standard errors of the
    difference of two independent episode means (0 for no gap, ±inf for a gap without noise)."""
    diff, se = gym_mean - mjx_mean, math.hypot(gym_se, mjx_se)
    if se > 0:
        return diff / se
    return 0.0 if diff == 0 else math.copysign(math.inf, diff)


def iqm(x: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% (a 25%-trimmed mean)."""
    from scipy import stats

    return float(stats.trim_mean(np.ravel(x), 0.25))


def stratified_bootstrap_ci(
    scores: list[np.ndarray], statistic: Any = iqm, reps: int = 5000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
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
    from mjx_nclql.tools.reference_scores import SCORES

    ref = SCORES.get(env)
    if ref is None or ref.random is None or ref.reference is None:
        return None
    return (value - ref.random) / (ref.reference - ref.random)


# The fixed policies every curve is read against, their `TaskScores` field and line style.
FIXED_POLICIES = {"random policy": ("random", ":"), "zero action": ("zero_action", "-.")}


def _fixed_policy_scores(env: str) -> dict[str, float | None]:
    """The uniform-random and all-zero-action policies' returns on `env` (`reference_scores`),
    None where not measured: on tasks that pay for staying alive, doing nothing can outscore a
    policy that moves (Ant), so a curve is read against both."""
    from mjx_nclql.tools.reference_scores import SCORES

    ref = SCORES.get(env)
    return {
        label: None if ref is None else getattr(ref, field) for label, (field, _) in FIXED_POLICIES.items()
    }


# ---------------------------------------------------------------------------- pooling seeds


@dataclasses.dataclass
class Point:
    """One evaluation point of a task and variant, pooled over its seeds."""

    transitions: int  # post-warm-up transitions per seed
    updates: list[int]  # each seed's gradient updates there
    mjx: np.ndarray  # each seed's in-training MJX return (empty at an `evaluate`-only checkpoint)
    gym: np.ndarray  # each seed's Gymnasium return, for the seeds eval.json has here

    def single_updates(self) -> int | None:
        """The updates of every seed here, or None when the seeds differ (pooled runs of different
        configurations) and no single x exists on the updates axis."""
        return self.updates[0] if len(set(self.updates)) == 1 else None


def _index(c: SeedCurve, step: int) -> int | None:
    """Position of evaluation `step` in the seed's curve, None where it has none."""
    hits = np.flatnonzero(c.steps == step)
    return int(hits[-1]) if hits.size else None


def _common_steps(curves: list[SeedCurve]) -> list[int]:
    """Evaluation steps every seed reached: a mean over different sets of seeds would mix them."""
    common = set(curves[0].steps.tolist())
    for c in curves[1:]:
        common &= set(c.steps.tolist())
    return sorted(common)


def group_points(curves: list[SeedCurve]) -> list[Point]:
    """Each step where every seed has an in-training evaluation or some seed has a Gymnasium one,
    with every seed's values there."""
    common = set(_common_steps(curves))
    gym_steps = {s for c in curves for s, row in c.checkpoints.items() if "gymnasium" in row}
    points = []
    for step in sorted(common | gym_steps):
        mjx, updates = [], []
        for c in curves:
            i = _index(c, step)
            if step in common:
                mjx.append(c.returns[i])
            if i is not None:
                updates.append(int(c.update_counts[i]))
            elif step in c.checkpoints:
                updates.append(int(c.checkpoints[step]["updates"]))
        gym = [
            c.checkpoints[step]["gymnasium"]["return_mean"]
            for c in curves
            if "gymnasium" in c.checkpoints.get(step, {})
        ]
        points.append(Point(step, updates, np.array(mjx, np.float64), np.array(gym, np.float64)))
    return points


def _final(curves: list[SeedCurve]) -> tuple[int, np.ndarray]:
    """The last evaluation step every seed reached, and each seed's return there."""
    common = _common_steps(curves)
    if not common:
        return 0, np.array([])
    step = common[-1]
    return step, np.array([c.returns[_index(c, step)] for c in curves])


def _by_task(curves: list[SeedCurve]) -> ByTask:
    """Seeds grouped by task and variant: the unit every statistic here is over."""
    by_task: ByTask = defaultdict(lambda: defaultdict(list))
    for c in curves:
        by_task[c.env][c.variant].append(c)
    return by_task


# ---------------------------------------------------------------------------- figures


def _sac_curve(ax: Axes, env: str, axis: str, xmax: float) -> None:
    """SAC's published mean ± std on one panel, matched to the panel's x: on the transitions panel
    SAC at env_step = transitions, on the updates panel at env_step = updates (one update per
    env_step); drawn only to `xmax` plus a margin."""
    from mjx_nclql.tools import reference_scores as ref

    if env not in ref.SAC_CURVES or xmax <= 0:
        return
    fn = ref.sac_at_transitions if axis == "transitions" else ref.sac_at_updates
    limit = min(float(ref.SAC_CURVE_MAX_STEP), xmax * (1 + SAC_MARGIN))
    x = np.array(sorted({float(row[0]) for row in ref.SAC_CURVES[env] if row[0] < limit} | {limit}))
    mean, std = np.array([fn(env, v) for v in x]).T
    ax.plot(x, mean, color="k", lw=1.5, ls="--", label=f"{SAC_LABEL}, mean ± std")
    ax.fill_between(x, mean - std, mean + std, color="k", alpha=0.1)


def _panel(ax: Axes, env: str, groups: dict[str, list[SeedCurve]], axis: str) -> None:
    """One x-axis of a task's figure: each seed faint, the mean over seeds with its 95% band, SAC
    and the fixed policies."""
    from matplotlib.ticker import EngFormatter

    xmax = 0.0
    for k, (variant, curves) in enumerate(sorted(groups.items())):
        color = f"C{k}"
        for j, c in enumerate(curves):
            x = c.steps if axis == "transitions" else c.update_counts
            if len(curves) > 1:  # one seed is its own mean
                ax.plot(
                    x,
                    c.returns,
                    color=color,
                    lw=0.8,
                    alpha=0.3,
                    label=f"{variant}, each seed" if j == 0 else None,
                )
            xmax = max(xmax, float(x.max()) if x.size else 0.0)
        points = [p for p in group_points(curves) if p.mjx.size]
        if not points:
            continue
        x = [p.transitions if axis == "transitions" else float(np.mean(p.updates)) for p in points]
        mean, half = np.array([mean_ci(p.mjx) for p in points]).T
        n = len(curves)
        label = f"{variant}, mean of {n} seeds ± 95% CI" if n > 1 else f"{variant} (n=1)"
        ax.plot(x, mean, color=color, lw=2, marker="o", label=label)
        if n > 1:
            ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.2)
    _sac_curve(ax, env, axis, xmax)
    for label, value in _fixed_policy_scores(env).items():
        if value is not None:
            ax.axhline(value, color="0.4", ls=FIXED_POLICIES[label][1], lw=1.2, label=label)
    ax.xaxis.set_major_formatter(EngFormatter())
    ax.set_xlabel(
        "transitions after warm-up (per seed)" if axis == "transitions" else "gradient updates (per seed)"
    )
    ax.set_title(f"{env}: at equal {axis}")
    ax.grid(alpha=0.3)


def task_figure(env: str, groups: dict[str, list[SeedCurve]]) -> Figure:
    """A task's learning curves on both x-axes, transitions | updates: the paper's budget and the
    learning per update can differ (SAC makes 1 update per transition, the paper preset 1 per 5)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    left, right = fig.subplots(1, 2, sharey=True)
    _panel(left, env, groups, "transitions")
    _panel(right, env, groups, "updates")
    left.set_ylabel("evaluation return (MJX, in training)")
    for ax in (left, right):
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def plot_task(env: str, groups: dict[str, list[SeedCurve]], path: str) -> None:
    """Write `task_figure` as a PNG, atomically."""
    fig = task_figure(env, groups)
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=100)


# ---------------------------------------------------------------------------- output


def _fmt_ci(mean: float, half: float) -> str:
    """ "mean ± half", or the mean alone where there is no interval (one value)."""
    return f"{mean:.1f}" if not math.isfinite(half) else f"{mean:.1f} ± {half:.1f}"


def _fmt_seeds(values: np.ndarray) -> str:
    """Mean ± 95% CI half-width over seeds with their number; one seed has no interval."""
    if values.size == 0:
        return "-"
    return f"{_fmt_ci(*mean_ci(values))} (n={values.size})"


def _fmt_sac(env: str, x: float | None, fn: Callable[[str, float], tuple[float, float]]) -> str:
    """SAC's published mean ± std at `x`, or "-" where no curve or no single x exists."""
    if x is None:
        return "-"
    try:
        mean, std = fn(env, x)
    except ValueError:  # a task without a curve, or beyond its last row
        return "-"
    return f"{mean:.1f} ± {std:.1f}"


def _final_section(by_task: ByTask) -> tuple[list[str], dict[str, list[np.ndarray]]]:
    """The final-return table, and each variant's normalised final scores per task (the aggregate's
    input)."""
    lines = [
        "### Final return per task",
        "",
        "Mean over seeds of the last evaluation all seeds reached (MJX, in training: "
        "20-episode mean per seed unless the run says otherwise), ± the 95% confidence "
        "half-width (Student t; none for a single seed), beside the returns of uniform random "
        "actions and of the all-zero action on Gymnasium (`mjx_nclql/tools/reference_scores.py`).",
        "",
        "| task | variant | seeds | transitions after warm-up | final return | random policy | zero action |",
        "|---|---|---|---|---|---|---|",
    ]
    scores: dict[str, list[np.ndarray]] = defaultdict(list)
    for env in sorted(by_task):
        random_text = " | ".join("-" if v is None else f"{v:.1f}" for v in _fixed_policy_scores(env).values())
        for variant in sorted(by_task[env]):
            group = by_task[env][variant]
            step, finals = _final(group)
            if finals.size == 0:
                lines.append(
                    f"| {env} | {variant} | {len(group)} | - | no common evaluation | {random_text} |"
                )
                continue
            lines.append(
                f"| {env} | {variant} | {len(group)} | {step:,} | "
                f"{_fmt_ci(*mean_ci(finals))} | {random_text} |"
            )
            norm = [normalised(env, v) for v in finals]
            if all(n is not None for n in norm):
                scores[variant].append(np.array(norm, np.float64))
    return lines, scores


def _points_section(by_task: ByTask) -> list[str]:
    """Every evaluation point on both x-axes, beside SAC at equal transitions and equal updates."""
    from mjx_nclql.tools import reference_scores as ref

    lines = [
        "",
        "### Learning curves: every evaluation point",
        "",
        "Return as mean over seeds ± the 95% confidence half-width (Student t; n = seeds, no "
        "interval for n=1): MJX from the in-training evaluations (where every seed has one), "
        "Gymnasium from `python -m mjx_nclql.evaluate` (where `eval.json` has the checkpoint). "
        f"{SAC_LABEL}: mean ± std over its seeds.",
        "",
        "| task | variant | transitions after warm-up | updates | MJX return (training eval) | "
        "Gymnasium return (`evaluate`) | SAC at equal transitions | SAC at equal updates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for env in sorted(by_task):
        for variant in sorted(by_task[env]):
            for p in group_points(by_task[env][variant]):
                u = p.single_updates()
                updates = f"{u:,}" if u is not None else f"{min(p.updates):,}–{max(p.updates):,}"
                lines.append(
                    f"| {env} | {variant} | {p.transitions:,} | {updates} | "
                    f"{_fmt_seeds(p.mjx)} | {_fmt_seeds(p.gym)} | "
                    f"{_fmt_sac(env, p.transitions, ref.sac_at_transitions)} | "
                    f"{_fmt_sac(env, u, ref.sac_at_updates)} |"
                )
    lines += [
        "",
        "SAC at equal transitions is Tianshou's curve at env_step = the row's transitions "
        "after warm-up (its env_step likewise leaves out SAC's 10k random start steps), SAC "
        "at equal updates is the same curve at env_step = the row's updates (SAC makes one "
        f"update per env_step), both linear between its rows every {ref.SAC_CURVE_STEP:,} "
        f'env_steps and "-" beyond env_step {ref.SAC_CURVE_MAX_STEP:,}.',
    ]
    return lines


def _figures_section(by_task: ByTask, out_path: str | None, figures_dir: str | None) -> list[str]:
    """Write each task's figure and link it relative to `out_path`."""
    if not figures_dir:
        return []
    os.makedirs(figures_dir, exist_ok=True)
    lines = [
        "",
        "### Learning curves",
        "",
        "Left: x = transitions after warm-up; right: x = gradient updates. Each seed faint, the "
        f"mean over seeds with its 95% band, {SAC_LABEL} as mean ± std (dashed, matched to "
        "each panel's x as in the table above), the random policy (dotted) and the zero action (dash-dot).",
        "",
    ]
    base = os.path.dirname(os.path.abspath(out_path)) if out_path else os.getcwd()
    for env in sorted(by_task):
        path = os.path.join(figures_dir, f"curve_{env}.png")
        plot_task(env, by_task[env], path)
        lines.append(f"![{env}]({os.path.relpath(path, base)})")
    return lines


def _final_checkpoint(c: SeedCurve) -> dict[str, Any] | None:
    """The seed's newest eval.json row with both simulators."""
    steps = [s for s, row in c.checkpoints.items() if "gymnasium" in row and "mjx" in row]
    return c.checkpoints[max(steps)] if steps else None


def _simulators_section(curves: list[SeedCurve]) -> list[str]:
    """MJX against Gymnasium for each seed's final evaluated checkpoint, the gap in standard errors."""
    lines = [
        "",
        "### MJX and Gymnasium at each seed's final checkpoint",
        "",
        "The same policy on both simulators (`python -m mjx_nclql.evaluate`), mean return ± its "
        "standard error over the episodes; z = (gym − MJX) / √(se_MJX² + se_gym²), and a gap "
        f"beyond {Z_FLAG:g} standard errors is flagged: more than sampling noise. The forward "
        "distance is how far the task's tracked point moved along x per episode, in metres "
        "(mean over the episodes, MJX / Gymnasium), what the forward reward pays for: a "
        "return made mostly of alive bonus shows as a short distance (`-` where the "
        "evaluation predates it).",
        "",
        "| task | variant | run | seed | transitions after warm-up | episodes | MJX return | "
        f"Gymnasium return | gym − MJX | z | beyond {Z_FLAG:g} se | forward distance (m) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = 0
    for c in sorted(curves, key=lambda c: (c.env, c.variant, c.seed)):
        row = _final_checkpoint(c)
        if row is None:
            continue
        m, g = row["mjx"], row["gymnasium"]
        z = z_score(g["return_mean"], g["return_stderr"], m["return_mean"], m["return_stderr"])
        flag = "**yes**" if abs(z) > Z_FLAG else "no"
        lines.append(
            f"| {c.env} | {c.variant} | {os.path.basename(c.run_dir)} | {c.seed} | "
            f"{row['post_warmup_steps']:,} | {row['episodes']} | "
            f"{m['return_mean']:.1f} ± {m['return_stderr']:.1f} | "
            f"{g['return_mean']:.1f} ± {g['return_stderr']:.1f} | "
            f"{g['return_mean'] - m['return_mean']:+.1f} | {z:+.2f} | {flag} | {_distances(m, g)} |"
        )
        rows += 1
    if not rows:
        return lines[:3] + [
            "No seed has an `evaluate` result on both simulators "
            "(`python -m mjx_nclql.evaluate RUN_DIR --all`)."
        ]
    return lines


def _distances(*sims: dict[str, Any]) -> str:
    """The forward distances of an eval.json row as "MJX / Gymnasium", or "-" without them."""
    values = [s.get("distance_mean") for s in sims]
    return "-" if None in values else " / ".join(f"{v:.2f}" for v in values)


def _difference(row: dict[str, Any]) -> dict[str, float] | None:
    """gym − MJX of an eval.json row that does not carry it, as `evaluate.difference` would."""
    if "gymnasium" not in row or "mjx" not in row:
        return None
    g, m = row["gymnasium"], row["mjx"]
    return {
        "mean": g["return_mean"] - m["return_mean"],
        "stderr": math.hypot(g["return_stderr"], m["return_stderr"]),
        "z": z_score(g["return_mean"], g["return_stderr"], m["return_mean"], m["return_stderr"]),
    }


def _runs_section(curves: list[SeedCurve]) -> list[str]:
    """One row per seed: its budget, time, returns and provenance."""
    lines = [
        "",
        "### Runs",
        "",
        "| run | seed | transitions after warm-up | updates | wall time | MJX return "
        "(training eval) | Gymnasium return (`evaluate`) | MJX return (`evaluate`) | "
        "gym − MJX | commit | jax | mujoco | device |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in sorted(curves, key=lambda c: (c.env, c.variant, c.seed)):
        last = f"{c.returns[-1]:.1f} (at {int(c.steps[-1]):,})" if c.returns.size else "-"
        g = c.gym
        if g:
            gym = (
                f"{g['gymnasium']['return_mean']:.1f} ± {g['gymnasium']['return_stderr']:.1f} "
                f"({g['episodes']} ep., at {g['post_warmup_steps']:,})"
            )
            mjx = f"{g['mjx']['return_mean']:.1f} ± {g['mjx']['return_stderr']:.1f}" if "mjx" in g else "-"
            d = g.get("difference") or _difference(g)
            diff = f"{d['mean']:+.1f} ± {d['stderr']:.1f} ({d['z']:+.1f} se)" if d else "-"
        else:
            gym = mjx = diff = "-"
        p = c.provenance
        lines.append(
            f"| {os.path.basename(c.run_dir)} | {c.seed} | {c.trained_steps:,} | {c.updates:,} | "
            f"{c.wall_seconds / 3600:.2f} h | {last} | {gym} | {mjx} | {diff} | "
            f"{p['commit']} | {p['jax']} | {p['mujoco']} | {p['device']} |"
        )
    return lines


def _aggregate_section(scores: dict[str, list[np.ndarray]]) -> list[str]:
    """IQM over tasks per variant, only with enough tasks and seeds to make it mean something."""
    lines = ["", "### Aggregate over tasks", ""]
    if not scores:
        return lines + ["No task has both reference scores; nothing to aggregate."]
    kept = {
        v: s
        for v, s in sorted(scores.items())
        if len(s) >= AGGREGATE_MIN_TASKS and min(x.size for x in s) >= AGGREGATE_MIN_SEEDS
    }
    for variant, s in sorted(scores.items()):
        if variant not in kept:
            lines.append(
                f"{variant}: left out, the IQM of normalised scores needs at least "
                f"{AGGREGATE_MIN_TASKS} tasks of at least {AGGREGATE_MIN_SEEDS} seeds each "
                f"(here {len(s)} task(s), seeds per task: "
                f"{', '.join(str(x.size) for x in s)})."
            )
    if kept:
        if len(kept) < len(scores):
            lines.append("")
        lines += [
            "Interquartile mean of normalised final scores, (R − random) / (reference − "
            "random) with the scores of `mjx_nclql/tools/reference_scores.py`, and a stratified-"
            "bootstrap 95% interval (seeds resampled within each task).",
            "",
            "| variant | tasks | runs | IQM | 95% interval |",
            "|---|---|---|---|---|",
        ]
        for variant, s in kept.items():
            lo, hi = stratified_bootstrap_ci(s)
            lines.append(
                f"| {variant} | {len(s)} | {sum(x.size for x in s)} | "
                f"{iqm(np.concatenate(s)):.3f} | [{lo:.3f}, {hi:.3f}] |"
            )
    return lines


def build(curves: list[SeedCurve], out_path: str | None, figures_dir: str | None) -> str:
    """The report's markdown; figures are written into `figures_dir` (linked relative to
    `out_path`)."""
    by_task = _by_task(curves)
    lines, scores = _final_section(by_task)
    lines += _points_section(by_task)
    lines += _figures_section(by_task, out_path, figures_dir)
    lines += _simulators_section(curves)
    lines += _runs_section(curves)
    lines += _aggregate_section(scores)
    return "\n".join(lines) + "\n"


def check_out(out_path: str, force: bool = False) -> None:
    """An existing `--out` without both markers is someone's file (a README, notes): refuse to
    replace it unless forced, before anything is written."""
    if force or not os.path.exists(out_path):
        return
    if os.path.isdir(out_path):
        raise ReportError(f"--out {out_path} is a directory")
    with open(out_path) as f:
        old = f.read()
    if not (BEGIN in old and END in old):
        raise ReportError(
            f"--out {out_path} exists and has no {BEGIN} / {END} markers; refusing to "
            "overwrite it (add the markers where the report goes, or pass --force)"
        )


def write(out_path: str, body: str) -> None:
    """Replace the marked block of an existing file, or write the whole file (a new one, or an
    unmarked one `check_out` let through); atomically."""
    block = f"{BEGIN}\n{body}{END}\n"
    text = block
    if os.path.exists(out_path):
        with open(out_path) as f:
            old = f.read()
        if BEGIN in old and END in old:
            head, rest = old.split(BEGIN, 1)
            text = head + block + "\n" + rest.split(END, 1)[1].lstrip("\n")
    write_text(out_path, text)


def build_parser() -> argparse.ArgumentParser:
    parser = command_parser("mjx_nclql.report", "Tables and learning curves from run directories.", __doc__)
    parser.add_argument(
        "run_dirs",
        nargs="+",
        metavar="RUN_DIR",
        help="run directories (config.yaml + metrics.jsonl); seeds of the same task "
        "and variant are pooled across them",
    )
    parser.add_argument(
        "--out",
        default=None,
        help=f"markdown file to write; in an existing one only the block between "
        f"{BEGIN} and {END} is replaced, and one without them is refused "
        "unless --force (default: print to stdout)",
    )
    parser.add_argument(
        "--figures",
        default=None,
        help="directory for the learning-curve PNGs (default: figures/ beside --out; none when printing)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing --out that has no report markers, whole"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.out:
            check_out(args.out, args.force)
        curves = [c for d in args.run_dirs for c in read_run(d)]
    except ReportError as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    figures = args.figures or (
        os.path.join(os.path.dirname(os.path.abspath(args.out)), "figures") if args.out else None
    )
    body = build(curves, args.out, figures)
    if args.out:
        write(args.out, body)
        print(f"written: {args.out}")
    else:
        print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
