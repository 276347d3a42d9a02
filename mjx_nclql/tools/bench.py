"""Throughput benchmark: `python -m mjx_nclql.bench --env ant --preset paper`.

Measures, in one process and after compilation: environment-only stepping (the simulation
limit), the Langevin sampler, the update, and the full training chunk, for the same
num_envs / batch size / seeds; then ratios, time shares, compile times and peak memory, and
estimates the wall-clock of a whole protocol. Prints a table and JSON.

The measuring itself is `tools/measure.py`, shared with the device campaign
(`tools/device_suite.py`, `--suite device`); jax and the project's jax modules are imported
where they are used, so `--help` answers at once.

    python -m mjx_nclql.bench --env ant --preset paper
    python -m mjx_nclql.bench --env hopper,ant --num-seeds 1,5 --json bench.json
    python -m mjx_nclql.bench --env halfcheetah train.num_envs=1024   # with a Hydra override
    python -m mjx_nclql.bench --suite device --out docs/device        # the accelerator campaign
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mjx_nclql.core.config import ConfigError
from mjx_nclql.tools.measure import ACCOUNT_PARTS, account, load_config, measure, protocol_estimate


def _table(rows: list[dict[str, Any]]) -> str:
    cols = [
        ("env", "env", "{}"),
        ("seeds", "num_seeds", "{}"),
        ("envs", "num_envs", "{}"),
        ("batch", "batch_size", "{}"),
        ("env-only sps", "env_steps_per_s_env_only", "{:,.0f}"),
        ("sampler act/s", "actions_per_s_sampler", "{:,.0f}"),
        ("update-only upd/s", "updates_per_s_update_only", "{:,.1f}"),
        ("train sps", "env_steps_per_s_train", "{:,.0f}"),
        ("train upd/s", "updates_per_s_train", "{:,.1f}"),
        ("train/env", "train_over_env_only", "{:.1%}"),
        ("train GFLOP/s", "train_gflops", "{:,.1f}"),
        ("of matmul peak", "train_fraction_of_peak", "{:.0%}"),
        ("share samp/env/upd", None, None),
        ("compile s", None, None),
        ("peak mem", None, None),
    ]
    head = "| " + " | ".join(c[0] for c in cols) + " |"
    lines = [head, "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for _, key, fmt in cols[:-3]:
            cells.append(fmt.format(r[key]))
        cells.append(f"{r['share_sampling']:.0%}/{r['share_env']:.0%}/{r['share_updates']:.0%}")
        cells.append(f"{sum(r['compile_s'].values()):.0f}")
        mem = r["peak_device_bytes"] or r["peak_host_rss_bytes"]
        cells.append(f"{mem / 2**30:.2f} GiB" + ("" if r["peak_device_bytes"] else " (host)"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from mjx_nclql.tools.cli_help import command_parser

    description = __doc__.split("\n\n")[1]  # the paragraph that says what is measured
    p = command_parser("mjx_nclql.bench", description, __doc__)
    _add_config_args(p)
    _add_mode_args(p)
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="extra Hydra overrides of the measured config, e.g. train.num_envs=1024",
    )
    return p


def _add_config_args(p: argparse.ArgumentParser) -> None:
    """What is measured: the task, the preset, and the sizes that override it."""
    p.add_argument("--env", default="halfcheetah", help="task, comma-separated tasks, or 'all'")
    p.add_argument(
        "--preset",
        default="paper",
        choices=["paper", "fast", "smoke"],
        help="protocol preset the measured config starts from (configs/preset/)",
    )
    p.add_argument(
        "--algo", default="nclql", choices=["nclql", "lql"], help="algorithm variant (configs/algo/)"
    )
    p.add_argument(
        "--num-envs", type=int, help="parallel environments per seed (default: the preset's train.num_envs)"
    )
    p.add_argument(
        "--num-seeds", default="1", help="seeds in one program, comma-separated to measure several, e.g. 1,5"
    )
    p.add_argument(
        "--batch-size", type=int, help="update batch size (default: the preset's train.batch_size)"
    )
    p.add_argument(
        "--updates-per-step",
        type=int,
        help="updates per vector step (default: the preset's train.updates_per_step)",
    )
    p.add_argument(
        "--chunk-iters",
        type=int,
        help="vector steps per jitted chunk (default: the preset's train.chunk_iters)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="timed calls per measurement after the compiling one; the best counts",
    )


def _add_mode_args(p: argparse.ArgumentParser) -> None:
    """How it is measured and where results go: the alternatives to the throughput table."""
    p.add_argument(
        "--account",
        action="store_true",
        help="instead of the throughput table: milliseconds per training iteration "
        "of each part (env step, replay, acting chain, target, TD and "
        "noise-conditioning steps, Polyak, diagnostics), each timed on its own",
    )
    p.add_argument(
        "--matmul-rate",
        type=float,
        metavar="SECONDS",
        help="instead: sample the machine's float32 matmul rate every 5 s for this "
        "long and print the spread (is the machine steady enough to measure?)",
    )
    p.add_argument(
        "--profile", metavar="DIR", help="write a JAX profiler trace of training here (default: no trace)"
    )
    p.add_argument("--json", metavar="PATH", help="also write the JSON results here (default: print only)")
    p.add_argument(
        "--suite",
        choices=["single", "device"],
        default="single",
        help="single: the measurements above; device: the whole accelerator campaign "
        "(see mjx_nclql/tools/device_suite.py)",
    )
    p.add_argument("--out", metavar="DIR", help="--suite device: where device.md/.json go (required there)")
    p.add_argument(
        "--budget",
        type=float,
        default=480.0,
        metavar="SECONDS",
        help="--suite device: start no measurement expected to end past this",
    )
    p.add_argument(
        "--grid",
        choices=["full", "tiny"],
        default="full",
        help="--suite device: full sizes, or toy sizes to check the command on a CPU",
    )


def run(p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The single-configuration measurements of parsed `args` (`--suite single`)."""
    if args.matmul_rate is not None:
        if args.matmul_rate <= 0:
            p.error("--matmul-rate must be a positive number of seconds")
        return run_matmul_rate(args)
    import envs

    tasks = envs.names() if args.env == "all" else args.env.split(",")
    try:
        seed_counts = [int(s) for s in args.num_seeds.split(",")]
    except ValueError:
        p.error(f"--num-seeds must be comma-separated integers, got {args.num_seeds!r}")
    extra = list(args.overrides)
    for flag, key in [
        ("num_envs", "train.num_envs"),
        ("batch_size", "train.batch_size"),
        ("updates_per_step", "train.updates_per_step"),
        ("chunk_iters", "train.chunk_iters"),
    ]:
        if getattr(args, flag) is not None:
            extra.append(f"{key}={getattr(args, flag)}")
    if args.repeats < 1:
        p.error("--repeats must be >= 1")

    rows = []
    try:
        configs = [
            (task, n, load_config(task, args.preset, args.algo, [*extra, f"num_seeds={n}"]))
            for task in tasks
            for n in seed_counts
        ]
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    import jax

    print(f"jax {jax.__version__} | devices {jax.devices()} | preset {args.preset}", flush=True)
    if args.account:
        return run_account(configs, args)
    for task, n, cfg in configs:
        print(f"measuring {task} with {n} seed(s) ...", flush=True)
        fig = measure(cfg, repeats=args.repeats, profile_dir=args.profile)
        fig["preset"] = args.preset
        fig["protocol_estimate"] = protocol_estimate(fig, cfg)
        fig["versions"] = {
            "jax": jax.__version__,
            "mujoco": _version("mujoco"),
            "mujoco-mjx": _version("mujoco-mjx"),
        }
        rows.append(fig)
        print(json.dumps(fig), flush=True)
    print_summary(rows, args.preset)
    if args.json:
        _write_json(args.json, rows)
    return 0


def print_summary(rows: list[dict[str, Any]], preset: str) -> None:
    """The throughput table, then each program's time for the whole protocol."""
    print()
    print(_table(rows))
    for r in rows:
        est = r["protocol_estimate"]
        print(
            f"{r['env']} x{r['num_seeds']} seeds: the {preset} protocol "
            f"({est['updates_per_run']:,.0f} updates/run) would take "
            f"{est['hours_per_program']:.2f} h for this program (evaluation excluded)"
        )


def account_table(result: dict[str, Any]) -> str:
    """One configuration's account as a markdown table."""
    lines = [
        "| part | ms per iteration | share of the training iteration | what it is |",
        "|---|---|---|---|",
    ]
    total = result["train_iteration_ms"]
    for name, what in ACCOUNT_PARTS:
        if name in result["ms_per_iteration"]:
            ms = result["ms_per_iteration"][name]
            lines.append(f"| {name} | {ms:.2f} | {ms / total:.1%} | {what} |")
    lines.append(f"| sum of the parts | {result['sum_of_parts_ms']:.2f} | {result['sum_over_train']:.1%} | |")
    lines.append(f"| training iteration (measured) | {total:.2f} | 100% | the fused chunk |")
    return "\n".join(lines)


def run_account(configs: list[tuple[str, int, Any]], args: argparse.Namespace) -> int:
    results = []
    for task, n, cfg in configs:
        print(f"accounting for {task} with {n} seed(s) ...", flush=True)
        result = account(cfg, repeats=args.repeats)
        results.append(result)
        print(json.dumps(result), flush=True)
        print()
        print(account_table(result))
    if args.json:
        _write_json(args.json, results)
    return 0


def run_matmul_rate(args: argparse.Namespace) -> int:
    """`--matmul-rate SECONDS`: one line per sample, then min / median / max."""
    import jax

    from mjx_nclql.tools.measure import sample_matmul_rate

    print(f"jax {jax.__version__} | devices {jax.devices()}", flush=True)
    samples = sample_matmul_rate(args.matmul_rate)
    for t, gflops in samples:
        print(f"{t:7.1f} s  {gflops:8.1f} GFLOP/s", flush=True)
    rates = sorted(g for _, g in samples)
    print(
        f"{len(rates)} samples: min {rates[0]:.1f}, median {rates[len(rates) // 2]:.1f}, "
        f"max {rates[-1]:.1f} GFLOP/s"
    )
    if args.json:
        _write_json(args.json, {"samples_s_gflops": samples})
    return 0


def _write_json(path: str, data: Any) -> None:
    """`--json PATH`, written atomically."""
    from mjx_nclql.core.files import write_text

    write_text(path, json.dumps(data, indent=1))


def _version(pkg: str) -> str:
    from importlib.metadata import version

    return version(pkg)
