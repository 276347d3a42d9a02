"""The device campaign: `python -m mjx_nclql.bench --suite device --out DIR`.

Accelerator time is often short (a spot instance, a Colab session), so one command takes
every measurement the project needs, in priority order, within a time budget: the update
latency grid, environment-only throughput, training throughput of the `paper` and `fast`
presets, first vs second start with the compilation cache, and a short `fast` training of
Hopper. After each measurement it rewrites DIR/device.json and DIR/device.md, so a run
that is killed or runs out of budget still leaves every number taken so far. A measurement
starts only if its expected time (a guess for an H100, rescaled by how the finished ones
compared with their guesses) fits in what is left of the budget; the rest are listed as
skipped. `--grid tiny` runs the same code with toy sizes (the CPU test of this module).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from mjx_nclql.core.files import write_text
from mjx_nclql.runtime.run_dir import METRICS_FILE


@dataclasses.dataclass(frozen=True)
class Grid:
    """What the campaign measures; `expect_*` are guessed seconds on one H100."""

    # Physics rows (task, tier, num_envs, with the command-buffer flag), in priority order:
    # `physics_first` before the paper rows, `physics_later` after everything else.
    physics_first: tuple[tuple[str, str, int, bool], ...]
    physics_later: tuple[tuple[str, str, int, bool], ...]
    env_steps: int
    update_batches: tuple[int, ...]
    update_seeds: tuple[int, ...]
    update_count: int  # updates per timed call
    update_overrides: tuple[str, ...]
    train_rows: tuple[tuple[str, str, int], ...]  # (task, preset, seeds)
    train_overrides: dict[str, tuple[str, ...]]  # per preset
    run_task: str  # the short training and the compile-cache starts
    run_preset: str
    run_seconds: int
    run_overrides: tuple[str, ...]
    cache_overrides: tuple[str, ...]  # the short training's programs, for a fixed amount of work
    expect_env: float = 43.0  # compile + timing of one env-only program (measured: the timing model below)
    expect_update: float = 20.0
    expect_train: float = 207.0  # a `paper` row on one H200, measured (see the timing model below)
    expect_cache: float = 60.0


# XLA's GPU command buffers for loops and conditionals: MJX's solver loop then runs without a
# host round trip per iteration (the physics rows measure it, in a process of its own).
COMMAND_BUFFER_FLAG = "--xla_gpu_enable_command_buffer=+WHILE,+CONDITIONAL"
_PHYSICS_FIRST = (
    ("halfcheetah", "faithful", 5, False),  # the paper protocol's vector step
    ("halfcheetah", "fast", 5, False),
    ("halfcheetah", "warp", 5, False),
    ("halfcheetah", "faithful", 4096, False),
    ("halfcheetah", "faithful", 5, True),
)
GRIDS: dict[str, Grid] = {
    "full": Grid(
        physics_first=_PHYSICS_FIRST,
        physics_later=tuple(
            (t, tier, n, False)
            for n in (5, 4096, 1024, 16384)
            for t in ("halfcheetah", "hopper", "humanoid")
            for tier in ("gymnasium", "faithful", "fast", "warp")
            # Humanoid observes cfrc_ext, which MJX computes only on its JAX implementation
            if (t, tier, n, False) not in _PHYSICS_FIRST and not (t == "humanoid" and tier == "warp")
        )
        + (("halfcheetah", "fast", 5, True), ("halfcheetah", "faithful", 4096, True)),
        env_steps=100,
        update_batches=(256, 1024, 4096),
        update_seeds=(1, 5),
        update_count=100,
        update_overrides=(),
        train_rows=(
            ("halfcheetah", "paper", 1),
            ("halfcheetah", "paper", 5),
            ("halfcheetah", "fast", 1),
            ("ant", "paper", 5),
            ("ant", "fast", 1),
            ("humanoid", "paper", 5),
            ("humanoid", "fast", 1),
        ),
        # paper chunks are cut to 100 vector steps for timing; fast keeps its own 16
        train_overrides={"paper": ("train.chunk_iters=100",), "fast": ()},
        run_task="hopper",
        run_preset="fast",
        run_seconds=150,
        run_overrides=("train.eval_every=65536", "train.checkpoint_every=0"),
        cache_overrides=("train.total_steps=16384", "train.eval_every=16384"),  # the run's programs
    ),
    "tiny": Grid(
        physics_first=(("swimmer", "faithful", 4, False), ("swimmer", "fast", 4, True)),
        physics_later=(),
        env_steps=5,
        update_batches=(8,),
        update_seeds=(1, 2),
        update_count=2,
        update_overrides=(
            "algo.critic.hidden_sizes=[16]",
            "algo.sampler.num_levels=2",
            "algo.sampler.steps_per_level=1",
        ),
        train_rows=(("probe_two_step", "smoke", 2),),
        train_overrides={
            "smoke": (
                "train.chunk_iters=5",
                "algo.critic.hidden_sizes=[16]",
                "algo.sampler.num_levels=2",
                "algo.sampler.steps_per_level=1",
                "train.buffer_size=1000",
            )
        },
        run_task="probe_two_step",
        run_preset="smoke",
        run_seconds=240,  # ends on its own well before
        run_overrides=(
            "train.total_steps=400",
            "train.warmup_steps=80",
            "train.chunk_iters=10",
            "train.eval_every=80",
            "train.checkpoint_every=0",
            "train.eval_episodes=2",
            "algo.critic.hidden_sizes=[16]",
            "algo.sampler.num_levels=2",
            "algo.sampler.steps_per_level=1",
            "train.batch_size=32",
        ),
        cache_overrides=("train.total_steps=80",),
        expect_env=30.0,
        expect_update=15.0,
        expect_train=60.0,
        expect_cache=90.0,  # a 2-core CPU
    ),
}


@dataclasses.dataclass
class Item:
    section: str
    label: str
    expected_s: float
    run: Callable[[], dict[str, Any] | list[dict[str, Any]]]
    time_boxed: bool = False  # it stops itself at expected_s: never rescaled


def machine() -> dict[str, Any]:
    """Device, driver and versions, recorded with every report."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "-"

    dev = jax.devices()[0]
    driver = "-"
    if shutil.which("nvidia-smi"):
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        )
        driver = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else "-"
    return {
        "device": getattr(dev, "device_kind", str(dev)),
        "backend": jax.default_backend(),
        "device_count": jax.device_count(),
        "driver": driver,
        "jax": jax.__version__,
        "jaxlib": ver("jaxlib"),
        "mujoco": ver("mujoco"),
        "mujoco-mjx": ver("mujoco-mjx"),
        "python": platform.python_version(),
        "host_cpus": os.cpu_count(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ------------------------------------------------------------------ the measurements
def physics_row(task: str, tier: str, num_envs: int, steps: int, command_buffer: bool) -> dict[str, Any]:
    """ms per vector step of env-only stepping; with `command_buffer`, in a fresh process whose
    XLA_FLAGS add `COMMAND_BUFFER_FLAG` (XLA reads its flags once, at start-up)."""
    from envs.bench import bench_task

    if command_buffer:
        env = {**os.environ, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {COMMAND_BUFFER_FLAG}".strip()}
        cmd = [sys.executable, "-m", "envs.bench", "--env", task, "--num-envs", str(num_envs)]
        cmd += ["--steps", str(steps), "--repeats", "2", "--physics", tier, "--json"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=900)
        if out.returncode != 0:
            raise RuntimeError(f"envs.bench with {COMMAND_BUFFER_FLAG} failed: {out.stderr.strip()[-400:]}")
        (r,) = json.loads(out.stdout)["results"]
    else:
        r = bench_task(task, num_envs, steps, repeats=2, physics=tier, **_warp_worlds(tier, num_envs))
    return {
        "env": task,
        "physics": tier,
        "num_envs": num_envs,
        "command_buffer": command_buffer,
        "ms_per_vector_step": r["ms_per_vector_step"],
        "env_steps_per_s": r["env_steps_per_s"],
        "compile_s": r["compile_reset_s"] + r["compile_rollout_s"],
        "program_mib": _mib(r["program_bytes"]),
    }


# The timing model, from measured seconds. On one H200 (jax 0.11.2, mujoco-mjx 3.17.0, the first
# device run) HalfCheetah's env-only program compiled in 43 s (`Grid.expect_env`) and a `paper`
# training row took 207 s, `fast` 228 s (`Grid.expect_train`). Other tasks scale by their compile
# times relative to HalfCheetah's on a 2-core CPU (docs/bench/six_tasks_cpu_2026-11-30.json:
# env-only 57 s for HalfCheetah, 64 s Hopper, 127 s Humanoid; a whole paper row 210 s, 502 s
# Humanoid); a row with the command-buffer flag also pays a fresh process's start.
COMPILE_FACTOR = {"halfcheetah": 1.0, "hopper": 1.1, "walker2d": 1.1, "ant": 1.0, "humanoid": 2.2}
PROCESS_START_S = 10.0


def physics_cost(grid: Grid, task: str, command_buffer: bool) -> float:
    """Expected seconds of one physics row (compilation dominates: the timing itself is < 5 s)."""
    return grid.expect_env * COMPILE_FACTOR.get(task, 1.0) + (PROCESS_START_S if command_buffer else 0.0)


def _warp_worlds(tier: str, num_envs: int) -> dict[str, int]:
    return {"warp_worlds": num_envs} if tier == "warp" else {}


def update_latency(batch: int, seeds: int, count: int, overrides: tuple[str, ...]) -> dict[str, Any]:
    """ms per update and updates/s of the `paper` algorithm at `batch`, `seeds` in one
    program, on HalfCheetah's sizes (the update never touches the simulator)."""
    from envs.bench import program_bytes
    from mjx_nclql.runtime.build import build
    from mjx_nclql.tools.measure import load_config, update_program

    cfg = load_config("halfcheetah", "paper", "nclql", [f"train.batch_size={batch}", *overrides])
    agent = build(cfg).agent
    keys = jax.random.split(jax.random.PRNGKey(0), seeds)
    state = jax.jit(jax.vmap(agent.init))(keys)
    fn = jax.jit(jax.vmap(update_program(agent, batch, count)))
    t = time.perf_counter()
    compiled = fn.lower(state, keys).compile()
    compile_s = time.perf_counter() - t
    jax.block_until_ready(compiled(state, keys))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        jax.block_until_ready(compiled(state, keys))
        best = min(best, time.perf_counter() - t)
    return {
        "batch": batch,
        "seeds": seeds,
        "ms_per_update": 1e3 * best / count,
        "updates_per_s": count * seeds / best,
        "compile_s": compile_s,
        "program_mib": _mib(program_bytes(compiled)),
    }


def training(task: str, preset: str, seeds: int, overrides: tuple[str, ...]) -> dict[str, Any]:
    from mjx_nclql.tools.measure import load_config, measure, protocol_estimate

    cfg = load_config(task, preset, "nclql", [*overrides, f"num_seeds={seeds}"])
    fig = measure(cfg, repeats=2)
    est = protocol_estimate(fig, cfg)
    return {
        "env": task,
        "preset": preset,
        "seeds": seeds,
        "num_envs": fig["num_envs"],
        "batch": fig["batch_size"],
        "updates_per_step": fig["updates_per_step"],
        "env_only_steps_per_s": fig["env_steps_per_s_env_only"],
        "train_steps_per_s": fig["env_steps_per_s_train"],
        "train_updates_per_s": fig["updates_per_s_train"],
        "share_sample": fig["share_sampling"],
        "share_env": fig["share_env"],
        "share_update": fig["share_updates"],
        "compile_s": sum(fig["compile_s"].values()),
        "train_program_mib": _mib(fig["train_program_bytes"]),
        "train_gflops": fig["train_gflops"],
        "matmul_peak_gflops": fig["matmul_peak_gflops"],
        "fraction_of_peak": fig["train_fraction_of_peak"],
        "protocol_minutes": 60.0 * est["hours_per_program"],
    }


def _train_command(
    task: str, preset: str, run_dir: str, cache: str | None, overrides: tuple[str, ...]
) -> list[str]:
    from mjx_nclql.core.cli_config import env_overrides

    return [
        sys.executable,
        "-m",
        "mjx_nclql.train",
        *env_overrides(task),
        f"preset={preset}",
        "log.wandb_mode=disabled",
        "log.progress=false",
        "log.plot=false",
        f"run_dir={run_dir}",
        f"compile_cache={cache if cache else 'null'}",
        *overrides,
    ]


def _run_process(cmd: list[str], limit_s: float, log_path: str) -> tuple[float, int]:
    """Run a training process; at `limit_s` ask it to stop (SIGINT: it checkpoints and exits),
    and kill it 120 s later. Returns (wall seconds, exit code)."""
    from mjx_nclql.runtime.compile_cache import ENV_VAR

    # The command names its cache (or none): an inherited process-wide cache must not stand in.
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    t = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            code = proc.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
    return time.perf_counter() - t, code


def cache_starts(out: str, grid: Grid) -> list[dict[str, Any]]:
    """A fixed piece of the short training (warm-up, one training chunk, one evaluation)
    started twice with a fresh cache: the first start compiles and fills it, the second should
    compile nothing and compute the same numbers. It leaves the cache filled for `short_run`."""
    from mjx_nclql.runtime import compile_cache

    cache = os.path.join(out, "work", "xla-cache")
    shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for label in ("first start", "second start"):
        run_dir = os.path.join(out, "work", f"cache-{label.replace(' ', '-')}")
        shutil.rmtree(run_dir, ignore_errors=True)
        cmd = _train_command(
            grid.run_task, grid.run_preset, run_dir, cache, (*grid.run_overrides, *grid.cache_overrides)
        )
        wall, code = _run_process(cmd, 600, run_dir + ".log")
        evals = _evaluations(run_dir)
        rows.append(
            {
                "start": label,
                "env": grid.run_task,
                "wall_s": wall,
                "exit_code": code,
                "cache_entries": compile_cache.entries(cache),
                # the same seed, so the same numbers whether compiled or loaded
                "final_eval_return": evals[-1]["eval_return"] if evals else float("nan"),
            }
        )
    return rows


def _evaluations(run_dir: str) -> list[dict[str, Any]]:
    """A run's evaluation records (seeds averaged) from its metrics.jsonl."""
    path = os.path.join(run_dir, METRICS_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [
        {
            "wall_s": r["wall_time"],
            "post_warmup_steps": r["post_warmup_steps"],
            "updates": r["updates"],
            "eval_return": float(np.mean(r["eval_return_mean"])),
        }
        for r in records
        if r.get("kind") == "eval"
    ]


def short_run(out: str, grid: Grid, limit_s: float) -> list[dict[str, Any]]:
    """A `fast` training stopped after `limit_s`: its evaluations against wall time."""
    run_dir = os.path.join(out, "work", f"{grid.run_task}-{grid.run_preset}")
    shutil.rmtree(run_dir, ignore_errors=True)
    cmd = _train_command(
        grid.run_task, grid.run_preset, run_dir, os.path.join(out, "work", "xla-cache"), grid.run_overrides
    )
    wall, code = _run_process(cmd, limit_s, run_dir + ".log")
    rows = [{"env": grid.run_task, "preset": grid.run_preset, **e} for e in _evaluations(run_dir)]
    if not rows:
        rows.append(
            {
                "env": grid.run_task,
                "preset": grid.run_preset,
                "wall_s": wall,
                "post_warmup_steps": 0,
                "updates": 0,
                "eval_return": float("nan"),
                "note": f"no evaluation within {limit_s:.0f} s (exit code {code})",
            }
        )
    return rows


def _mib(n: int | None) -> float | None:
    return None if n is None else n / 2**20


# ------------------------------------------------------------------ the campaign
SECTIONS = {
    "update": "Update latency (HalfCheetah sizes, paper algorithm)",
    "physics": "Physics: env-only ms per vector step (uniform random actions, auto-reset)",
    "train": "Training throughput (measured chunks; protocol time extrapolated, evaluation excluded)",
    "cache": "Start-up with the persistent compilation cache",
    "run": "Short training: evaluation return against wall time",
}


class Campaign:
    """Runs `Item`s within a budget and keeps DIR/device.{json,md} current after each."""

    def __init__(self, out: str, grid_name: str, budget_s: float, command: str) -> None:
        self.out = os.path.abspath(out)
        self.grid = GRIDS[grid_name]
        self.budget_s = budget_s
        self.started = time.perf_counter()
        self.report: dict[str, Any] = {
            "machine": machine(),
            "grid": grid_name,
            "budget_s": budget_s,
            "command": command,
            "sections": {k: [] for k in SECTIONS},
            "skipped": [],
            "errors": [],
            "elapsed_s": 0.0,
        }
        self._expected_done = 0.0
        self._actual_done = 0.0

    def items(self) -> list[Item]:
        """In priority order: the paper protocol's time, then what a user tunes with, then
        the breadth of the grid."""
        g = self.grid

        def train(rows: tuple[tuple[str, str, int], ...]) -> list[Item]:
            return [
                Item(
                    "train",
                    f"{t} {p} x{s} seeds",
                    g.expect_train * COMPILE_FACTOR.get(t, 1.0),
                    lambda t=t, p=p, s=s: training(t, p, s, g.train_overrides[p]),
                )
                for t, p, s in rows
            ]

        def update(seeds: int) -> list[Item]:
            return [
                Item(
                    "update",
                    f"batch {b}, {seeds} seed(s)",
                    g.expect_update,
                    lambda b=b: update_latency(b, seeds, g.update_count, g.update_overrides),
                )
                for b in g.update_batches
            ]

        def physics(rows: tuple[tuple[str, str, int, bool], ...]) -> list[Item]:
            return [
                Item(
                    "physics",
                    f"{t} {tier} x{n}" + (" +command buffer" if cb else ""),
                    physics_cost(g, t, cb),
                    lambda t=t, tier=tier, n=n, cb=cb: physics_row(t, tier, n, g.env_steps, cb),
                )
                for t, tier, n, cb in rows
            ]

        first_seeds, *more_seeds = g.update_seeds
        return [
            *physics(g.physics_first),
            *train(g.train_rows[:2]),
            *update(first_seeds),
            Item("cache", "first and second start", g.expect_cache, lambda: cache_starts(self.out, g)),
            Item(
                "run",
                f"{g.run_task} {g.run_preset}",
                g.run_seconds + 30.0,
                lambda: short_run(self.out, g, g.run_seconds),
                time_boxed=True,
            ),
            *train(g.train_rows[2:3]),
            *[item for n in more_seeds for item in update(n)],
            *train(g.train_rows[3:]),
            *physics(g.physics_later),
        ]

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def run(self, echo: Callable[[str], None] = print) -> dict[str, Any]:
        os.makedirs(os.path.join(self.out, "work"), exist_ok=True)
        self.write()
        for item in self.items():
            scale = self._actual_done / self._expected_done if self._expected_done else 1.0
            guess = item.expected_s * (1.0 if item.time_boxed else max(scale, 0.25))
            left = self.budget_s - self.elapsed()
            if guess > left:
                self.report["skipped"].append(
                    f"{item.section}: {item.label} (expected {guess:.0f} s, "
                    f"{max(left, 0):.0f} s of budget left)"
                )
                echo(f"[{self.elapsed():6.0f} s] skip {item.section}: {item.label} (budget)")
                self.write()
                continue
            echo(f"[{self.elapsed():6.0f} s] {item.section}: {item.label} ...")
            t = time.perf_counter()
            try:
                rows = item.run()
            except Exception as err:  # one failed measurement must not lose the others
                self.report["errors"].append(
                    {
                        "item": f"{item.section}: {item.label}",
                        "error": f"{type(err).__name__}: {err}",
                        "traceback": traceback.format_exc(limit=5),
                    }
                )
                echo(f"    failed: {type(err).__name__}: {err}")
                rows = []
            took = time.perf_counter() - t
            if not item.time_boxed:
                self._expected_done += item.expected_s
                self._actual_done += took
            for row in rows if isinstance(rows, list) else [rows]:
                self.report["sections"][item.section].append({**row, "item_s": took})
            self.write()
        return self.report

    def write(self) -> None:
        self.report["elapsed_s"] = self.elapsed()
        write_text(os.path.join(self.out, "device.json"), json.dumps(self.report, indent=1, default=_plain))
        write_text(os.path.join(self.out, "device.md"), render(self.report))


def _plain(x: Any) -> Any:
    return x.item() if hasattr(x, "item") else str(x)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if not np.isfinite(v):
            return "-"
        if 0 < abs(v) < 1:
            return f"{v:.3g}"
        return f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}"
    return "-" if v is None else str(v)


def render(report: dict[str, Any]) -> str:
    """The Markdown report: machine, one table per section, what was skipped or failed."""
    m = report["machine"]
    lines = [
        "# Device benchmark",
        "",
        f"* Device: {m['device']} x{m['device_count']} ({m['backend']}), driver {m['driver']}, "
        f"{m['host_cpus']} host CPUs",
        f"* Software: jax {m['jax']} (jaxlib {m['jaxlib']}), mujoco {m['mujoco']}, "
        f"mujoco-mjx {m['mujoco-mjx']}, Python {m['python']}",
        f"* Date: {m['date']}; grid `{report['grid']}`; budget {report['budget_s']:.0f} s; "
        f"elapsed {report['elapsed_s']:.0f} s",
        f"* Command: `{report['command']}`",
    ]
    for key, title in SECTIONS.items():
        rows = report["sections"][key]
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("(not measured)")
            continue
        cols = list(dict.fromkeys(k for r in rows for k in r))
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * len(cols))
        lines += ["| " + " | ".join(_cell(r.get(c)) for c in cols) + " |" for r in rows]
    if report["skipped"]:
        lines += ["", "## Skipped (budget)", ""] + [f"* {s}" for s in report["skipped"]]
    if report["errors"]:
        lines += ["", "## Failed", ""] + [f"* {e['item']}: {e['error']}" for e in report["errors"]]
    return "\n".join(lines) + "\n"


def run_from_command(p: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None) -> int:
    """`python -m mjx_nclql.bench --suite device ...` with its parsed `args` (bench's parser)."""
    if not args.out:
        p.error("--suite device needs --out DIR")
    if args.budget <= 0:
        p.error("--budget must be > 0 seconds")
    if args.overrides:
        p.error("--suite device takes no overrides: its grid is fixed (see --grid)")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as err:
        p.error(f"cannot create --out {args.out}: {err.strerror}")
    # No persistent cache here: compile times are among the figures (the "cache" item measures
    # the cache itself, in fresh processes with a directory of their own).
    command = "python -m mjx_nclql.bench " + " ".join(sys.argv[1:] if argv is None else argv)
    campaign = Campaign(args.out, args.grid, args.budget, command.strip())
    print(
        f"device suite: {campaign.report['machine']['device']} | grid {args.grid} | "
        f"budget {args.budget:.0f} s | writing {os.path.abspath(args.out)}/device.md",
        flush=True,
    )
    report = campaign.run()
    print(
        f"done in {report['elapsed_s']:.0f} s: {os.path.join(campaign.out, 'device.md')}"
        f" ({len(report['skipped'])} skipped, {len(report['errors'])} failed)",
        flush=True,
    )
    return 1 if report["errors"] else 0
