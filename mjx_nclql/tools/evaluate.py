"""`python -m mjx_nclql.evaluate RUN_DIR`: a run's policy on its MJX task and in Gymnasium.

The same policy (the run's sampler and a checkpoint's critic parameters, per seed) plays full
episodes on two simulators: the MJX task training used (float32, as trained) and Gymnasium's
own task (`Hopper-v4`, ... on MuJoCo C, float64), the simulator published returns come from.
Results are printed and written to `RUN_DIR/eval.json`; nothing else in the run is touched.

A step is counted as the metrics file counts it: post-warm-up transitions per seed (the
`post_warmup_steps` of metrics.jsonl, the learning curve's x-axis), not the chunk a checkpoint
is numbered by. `--step` takes it, and eval.json's `step` holds it (its `chunk` the checkpoint;
entries written before `chunk` existed had the chunk in `step`, and are converted on merge).

    python -m mjx_nclql.evaluate runs/hopper-nclql-s0              # newest checkpoint
    python -m mjx_nclql.evaluate runs/hopper-nclql-s0 --all        # every kept checkpoint
    python -m mjx_nclql.evaluate runs/hopper-nclql-s0 --step 50000,150000 --episodes 50 --seeds 0,2
    python -m mjx_nclql.evaluate runs/hopper-nclql-s0 --all --skip-evaluated   # resume a curve

eval.json is written after every checkpoint, so an interrupted `--all` keeps the checkpoints it
finished, and `--skip-evaluated` leaves out those eval.json already holds with the same setting
(episodes, key, particles, simulators, seeds).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from mjx_nclql.core.errors import MjxNclqlError
from mjx_nclql.core.files import write_text

if TYPE_CHECKING:
    from envs.protocol import Env
    from mjx_nclql.algo.agent import Agent

SIMULATORS = ("mjx", "gymnasium")
EVAL_FILE = "eval.json"
UNITS = {
    "step": "post-warm-up transitions per seed (metrics.jsonl's post_warmup_steps; what --step takes)",
    "chunk": "the checkpoint: chunks done, warm-up included",
}


class EvaluationError(MjxNclqlError, RuntimeError):
    """Bad input: no such run, no readable checkpoint, a seed or simulator that does not exist."""


@dataclasses.dataclass(frozen=True)
class Summary:
    """Return statistics of n episodes on one simulator."""

    n: int
    return_mean: float
    return_std: float
    return_stderr: float
    length_mean: float
    nonfinite: int  # episodes whose physics went non-finite
    # Metres the tracked point moved forward (x) per episode: what the forward reward pays
    # for, apart from the alive bonus. None for a task without a forward velocity.
    distance_mean: float | None = None
    distance_stderr: float | None = None

    @classmethod
    def of(
        cls,
        returns: np.ndarray,
        lengths: np.ndarray,
        nonfinite: np.ndarray,
        distances: np.ndarray | None = None,
    ) -> Summary:
        from envs.stats import episode_statistics, mean_and_stderr

        s = episode_statistics(returns, lengths, nonfinite)
        distance = (None, None) if distances is None else mean_and_stderr(distances)
        return cls(
            n=s["episodes"],
            return_mean=s["return_mean"],
            return_std=s["return_std"],
            return_stderr=s["return_stderr"],
            length_mean=s["length_mean"],
            nonfinite=s["nonfinite"],
            distance_mean=distance[0],
            distance_stderr=distance[1],
        )


def difference(gym: Summary, mjx: Summary) -> dict[str, float]:
    """Gymnasium minus MJX mean return, with the standard error of the difference (independent
    episodes) and the difference in units of it."""
    from envs.stats import difference as stats_difference

    return stats_difference(gym.return_mean, gym.return_stderr, mjx.return_mean, mjx.return_stderr)


# ---------------------------------------------------------------------------- the two simulators


def mjx_episodes(env: Env, agent: Agent, params: Any, key: Any, episodes: int) -> list[Summary]:
    """Episodes on the run's MJX task for every seed of `params` (leading seed axis), one
    compiled program for all seeds."""
    import jax

    from mjx_nclql.runtime.rollout import run_episodes

    fn = jax.jit(jax.vmap(lambda p, k: run_episodes(env, agent.act, p, k, episodes)))
    num_seeds = jax.tree.leaves(params)[0].shape[0]
    stats = jax.device_get(fn(params, jax.random.split(key, num_seeds)))
    return [
        Summary.of(
            stats.returns[i],
            stats.lengths[i],
            stats.nonfinite[i],
            None if stats.distances is None else stats.distances[i],
        )
        for i in range(num_seeds)
    ]


def gymnasium_factory(env_cfg: Any) -> tuple[str, dict[str, Any], list[str]]:
    """(Gymnasium id, `gymnasium.make` kwargs, MJX-only options) for the run's task
    (`envs.registry.gymnasium_spec`), or a clear error for a task Gymnasium lacks."""
    from envs.registry import capabilities, gymnasium_spec

    try:
        counterpart = capabilities(env_cfg.name).gymnasium
    except ValueError:
        counterpart = False
    if not counterpart:
        raise EvaluationError(
            f"Gymnasium has no counterpart of env {env_cfg.name!r}; evaluate it with --simulator mjx"
        )
    # "faithful" is Gymnasium's physics bit for bit; only the "fast" tier is worth a note.
    physics = {} if env_cfg.physics in ("faithful", "gymnasium") else {"physics": env_cfg.physics}
    return gymnasium_spec(env_cfg.name, **physics, **env_cfg.options)


def gymnasium_episodes(
    gym_id: str, kwargs: dict[str, Any], act: Any, params: Any, key: Any, episodes: int, reset_seed: int
) -> Summary:
    """`episodes` Gymnasium episodes stepped in lockstep: one batched (jitted) policy call per
    step for all of them; episode i is reset with seed `reset_seed + i`. Actions in [-1, 1]
    are mapped affinely onto the action space, as the MJX task does. The forward distance is
    the sum of `info["x_velocity"] * dt`, as on MJX."""
    import gymnasium as gym
    import jax
    import jax.numpy as jnp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v4 tasks are deprecated upstream, still the benchmark
        pool = [gym.make(gym_id, **kwargs) for _ in range(episodes)]
    low, high = pool[0].action_space.low, pool[0].action_space.high
    obs = np.stack([e.reset(seed=reset_seed + i)[0] for i, e in enumerate(pool)])
    returns, lengths = np.zeros(episodes), np.zeros(episodes, np.int64)
    distances = np.zeros(episodes)
    bad = np.zeros(episodes, bool)
    alive = np.ones(episodes, bool)
    t = 0
    while alive.any():
        a = np.asarray(act(params, jnp.asarray(obs, jnp.float32), jax.random.fold_in(key, t)), np.float64)
        ctrl = low + (a + 1.0) * 0.5 * (high - low)
        for i in np.flatnonzero(alive):
            o, r, terminated, truncated, info = pool[i].step(ctrl[i])
            returns[i] += r
            speed = info.get("x_velocity")  # every -v4 task reports it
            distances[i] += np.nan if speed is None else speed * pool[i].unwrapped.dt
            lengths[i] += 1
            if not np.all(np.isfinite(o)):
                bad[i], terminated = True, True
            obs[i] = np.nan_to_num(o)
            alive[i] = not (terminated or truncated)
        t += 1
    for e in pool:
        e.close()
    return Summary.of(returns, lengths, bad, None if np.isnan(distances).all() else distances)


# ---------------------------------------------------------------------------- the run


def _check_run(run_dir: str) -> tuple[Any, list[int]]:
    """(config, checkpoint chunks) of an evaluable run."""
    from mjx_nclql.runtime.saved_run import RunDirError, saved_run

    try:
        return saved_run(run_dir, "evaluate")
    except RunDirError as err:
        raise EvaluationError(str(err)) from err


def checkpoint_steps(run_dir: str) -> list[int]:
    """Every kept checkpoint of a run as post-warm-up transitions (what `--step` takes)."""
    from mjx_nclql.runtime.saved_run import checkpoints_by_step

    cfg, chunks = _check_run(run_dir)
    return sorted(checkpoints_by_step(cfg, chunks))


def _not_yet_evaluated(run_dir: str, plan: Plan, record: dict[str, Any], echo: Any) -> list[tuple[int, int]]:
    """The planned checkpoints whose entry with this record's setting is not in eval.json yet."""
    done = {_ident(e) for e in read_eval_file(run_dir)}
    setting = _setting(
        record["episodes"], record["key"], record["num_particles"], plan.simulators, plan.seeds
    )
    todo = [(post, chunk) for post, chunk in plan.checkpoints if (post, *setting) not in done]
    skipped = sorted({post for post, _ in plan.checkpoints} - {post for post, _ in todo})
    if skipped:
        echo(f"skipping step(s) {', '.join(map(str, skipped))}: already in {EVAL_FILE} with this setting")
    return todo


def evaluate_run(
    run_dir: str,
    *,
    steps: list[int] | None = None,
    episodes: int = 20,
    seeds: list[int] | None = None,
    simulators: tuple[str, ...] = SIMULATORS,
    key: int = 0,
    num_particles: int | None = None,
    skip_evaluated: bool = False,
    echo: Any = print,
) -> dict[str, Any]:
    """Evaluate the checkpoints at `steps` post-warm-up transitions (default: the newest) of a
    run; returns the eval record. Each checkpoint's entry is merged into RUN_DIR/eval.json as
    soon as it is done (an entry of the same checkpoint and setting is replaced);
    `skip_evaluated` leaves out checkpoints whose entry is already there."""
    from mjx_nclql.runtime import compile_cache
    from mjx_nclql.runtime.build import build

    run_dir = os.path.abspath(run_dir)
    plan = plan_evaluation(run_dir, steps, episodes, seeds, simulators)
    cfg = plan.cfg
    record: dict[str, Any] = {
        "run_dir": run_dir,
        "env": cfg.env.name,
        "variant": cfg.algo.variant,
        "gym_id": plan.gym_spec[0] if plan.gym_spec else None,
        "episodes": episodes,
        "key": key,
        "num_particles": num_particles or cfg.algo.sampler.num_particles,
        "evaluated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "checkpoints": [],
    }
    todo = _not_yet_evaluated(run_dir, plan, record, echo) if skip_evaluated else plan.checkpoints
    if not todo:
        return record
    if plan.gym_spec and plan.gym_spec[2]:
        echo(
            f"note: the run sets MJX physics option(s) {plan.gym_spec[2]}; Gymnasium's task is "
            "evaluated as published, without them"
        )
    compile_cache.enable(cfg.compile_cache)  # the run's programs, compiled once across calls
    setup = build(cfg)
    for post, chunk in todo:
        entry = evaluate_checkpoint(
            run_dir,
            setup,
            plan,
            post,
            chunk,
            episodes=episodes,
            key=key,
            num_particles=num_particles,
            echo=echo,
        )
        record["checkpoints"].append(entry)
        write_eval_file(run_dir, {**record, "checkpoints": [entry]})  # kept if later ones fail
    return record


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one `evaluate_run` call evaluates, checked before anything is built."""

    cfg: Any  # the run's RunConfig
    checkpoints: list[tuple[int, int]]  # (post-warm-up transitions, checkpoint chunk)
    seeds: list[int]  # seed indices of the run
    simulators: tuple[str, ...]
    gym_spec: tuple[str, dict[str, Any], list[str]] | None  # `gymnasium_factory`'s, if needed


def plan_evaluation(
    run_dir: str, steps: list[int] | None, episodes: int, seeds: list[int] | None, simulators: tuple[str, ...]
) -> Plan:
    """The checked request, or an EvaluationError that says what is wrong with it."""
    from mjx_nclql.runtime.saved_run import RunDirError, checkpoint_at

    if episodes < 1:
        raise EvaluationError(f"--episodes must be >= 1, got {episodes}")
    unknown = sorted(set(simulators) - set(SIMULATORS))
    if unknown or not simulators:
        raise EvaluationError(f"unknown simulator(s) {unknown}; choose from {list(SIMULATORS)}")
    cfg, available = _check_run(run_dir)
    try:  # (post-warm-up transitions, checkpoint chunk)
        checkpoints = sorted({checkpoint_at(cfg, available, s, run_dir) for s in steps or [None]})
    except RunDirError as err:
        raise EvaluationError(str(err)) from err
    seeds = list(range(cfg.num_seeds)) if seeds is None else seeds
    bad = [s for s in seeds if not 0 <= s < cfg.num_seeds]
    if bad or not seeds:
        raise EvaluationError(
            f"seed index {bad or seeds} out of range: the run has {cfg.num_seeds} seed(s), "
            f"indices 0..{cfg.num_seeds - 1}"
        )
    gym_spec = gymnasium_factory(cfg.env) if "gymnasium" in simulators else None
    return Plan(cfg, checkpoints, seeds, tuple(simulators), gym_spec)


def evaluate_checkpoint(
    run_dir: str,
    setup: Any,
    plan: Plan,
    post: int,
    chunk: int,
    *,
    episodes: int,
    key: int,
    num_particles: int | None,
    echo: Any,
) -> dict[str, Any]:
    """One checkpoint's eval.json entry: every planned seed on every planned simulator."""
    import jax

    from mjx_nclql.runtime.checkpoint import CheckpointError
    from mjx_nclql.runtime.policy import restore_params

    cfg, seeds = plan.cfg, plan.seeds
    try:
        _, agent, _, params = restore_params(run_dir, chunk, num_particles)
    except CheckpointError as err:
        raise EvaluationError(str(err)) from err
    params = jax.tree.map(lambda x: x[np.asarray(seeds)], params)
    entry: dict[str, Any] = {
        "step": post,
        "chunk": chunk,
        "env_steps": setup.schedule.env_steps(chunk),
        "post_warmup_steps": post,
        "updates": post // cfg.train.num_envs * cfg.train.updates_per_step,
        "seeds": [],
    }
    ckey = jax.random.fold_in(jax.random.PRNGKey(key), chunk)
    mjx = mjx_episodes(setup.env, agent, params, ckey, episodes) if "mjx" in plan.simulators else None
    act = jax.jit(agent.act)
    for j, s in enumerate(seeds):
        row: dict[str, Any] = {"seed_index": s, "seed": cfg.seed + s}
        if mjx is not None:
            row["mjx"] = dataclasses.asdict(mjx[j])
        if plan.gym_spec is not None:
            p = jax.tree.map(lambda x, j=j: x[j], params)
            g = gymnasium_episodes(
                plan.gym_spec[0],
                plan.gym_spec[1],
                act,
                p,
                jax.random.fold_in(ckey, 1_000 + s),
                episodes,
                reset_seed=key * 1_000_003 + s * 10_007,
            )
            row["gymnasium"] = dataclasses.asdict(g)
            if mjx is not None:
                row["difference"] = difference(g, mjx[j])
        entry["seeds"].append(row)
        echo(format_row(post, chunk, row))
    return entry


def format_row(step: int, chunk: int, row: dict[str, Any]) -> str:
    """One seed's results at `step` post-warm-up transitions (checkpoint `chunk`)."""
    parts = [f"step {step} (post-warm-up transitions; checkpoint {chunk}) seed {row['seed']}:"]
    for sim in SIMULATORS:
        if sim in row:
            r = row[sim]
            distance = "" if r.get("distance_mean") is None else f", forward {r['distance_mean']:.2f} m"
            parts.append(
                f"{sim} {r['return_mean']:.1f} +- {r['return_stderr']:.1f} "
                f"(std {r['return_std']:.1f}, length {r['length_mean']:.0f}{distance})"
            )
    if "difference" in row:
        d = row["difference"]
        parts.append(f"| gym - mjx {d['mean']:+.1f} +- {d['stderr']:.1f} ({d['z']:+.1f} se)")
    return "  ".join(parts)


def write_eval_file(run_dir: str, record: dict[str, Any]) -> None:
    """Merge into RUN_DIR/eval.json atomically: one entry per (checkpoint, episodes, key,
    particles, simulators evaluated); a rerun replaces its own entry. `units` says what
    `step` and `chunk` count."""
    old = read_eval_file(run_dir)
    setting = {k: record[k] for k in ("episodes", "key", "num_particles")}
    new = []
    for entry in record["checkpoints"]:
        new.append({**setting, "evaluated_at": record["evaluated_at"], **entry})
    replaced = {_ident(e) for e in new}
    merged = [e for e in old if _ident(e) not in replaced] + new
    merged.sort(key=lambda e: (e["step"], e["episodes"]))
    out = {k: record[k] for k in ("run_dir", "env", "variant", "gym_id")}
    out["units"] = UNITS
    out["evaluations"] = merged
    write_text(os.path.join(run_dir, EVAL_FILE), json.dumps(out, indent=1))


def read_eval_file(run_dir: str) -> list[dict[str, Any]]:
    """The entries of RUN_DIR/eval.json in today's units ([] if there is none or it is not
    JSON)."""
    path = os.path.join(run_dir, EVAL_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        try:
            return [_upgrade(e) for e in json.load(f).get("evaluations", [])]
        except json.JSONDecodeError:
            return []


def _setting(
    episodes: int, key: int, num_particles: int, simulators: tuple[str, ...], seeds: list[int]
) -> tuple:
    """What makes two evaluations of one checkpoint the same (with the step, `_ident`)."""
    return (episodes, key, num_particles, tuple(sorted(simulators)), tuple(seeds))


def _ident(e: dict[str, Any]) -> tuple:
    """An eval.json entry's checkpoint and setting."""
    sims = tuple(k for k in e["seeds"][0] if k in SIMULATORS) if e["seeds"] else ()
    seeds = [r["seed_index"] for r in e["seeds"]]
    return (e["step"], *_setting(e["episodes"], e["key"], e["num_particles"], sims, seeds))


def _upgrade(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry written when `step` was the checkpoint's chunk, in today's units."""
    if "chunk" in entry or "post_warmup_steps" not in entry:
        return entry
    return {**entry, "step": entry["post_warmup_steps"], "chunk": entry["step"]}


def _parse_ints(text: str, what: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as err:
        raise EvaluationError(f"{what} must be comma-separated integers, got {text!r}") from err


def build_parser() -> argparse.ArgumentParser:
    from mjx_nclql.tools.cli_help import command_parser

    parser = command_parser(
        "mjx_nclql.evaluate",
        "Evaluate a run's checkpoint(s) on its MJX task and in Gymnasium (MuJoCo C).",
        __doc__,
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="a training run's directory (config.yaml and checkpoints/)"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--step",
        metavar="TRANSITIONS",
        help="the checkpoint(s) at this many post-warm-up transitions per seed, "
        "as metrics.jsonl's post_warmup_steps counts them, comma-separated "
        "(e.g. 50000,150000); a value without a checkpoint is an error that "
        "lists the valid ones (default: the newest checkpoint)",
    )
    which.add_argument(
        "--all", action="store_true", help="evaluate every kept checkpoint (a curve) instead of one"
    )
    parser.add_argument("--episodes", type=int, default=20, help="episodes per seed and simulator")
    parser.add_argument(
        "--seeds", default=None, help="seed indices of the run, comma-separated, e.g. 0,2 (default: all)"
    )
    parser.add_argument(
        "--simulator",
        choices=("both", *SIMULATORS),
        default="both",
        help="where to play: the run's MJX task, Gymnasium's task, or both",
    )
    parser.add_argument("--key", type=int, default=0, help="evaluation randomness (resets, sampler)")
    parser.add_argument(
        "--particles",
        type=int,
        default=None,
        help="best-of-N Langevin chains (default: the run's sampler setting)",
    )
    parser.add_argument(
        "--skip-evaluated",
        action="store_true",
        help=f"leave out checkpoints {EVAL_FILE} already holds with the same "
        "episodes, key, particles, simulators and seeds (resumes an "
        "interrupted --all)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    from envs import _quiet  # noqa: F401  (MuJoCo/MJX import noise)

    try:
        steps = None
        if args.step is not None:
            steps = _parse_ints(args.step, "--step")
            if not steps:
                raise EvaluationError("--step needs at least one value")
        elif args.all:
            steps = checkpoint_steps(os.path.abspath(args.run_dir))
        seeds = None if args.seeds is None else _parse_ints(args.seeds, "--seeds")
        sims = SIMULATORS if args.simulator == "both" else (args.simulator,)
        if args.particles is not None and args.particles < 1:
            raise EvaluationError(f"--particles must be >= 1, got {args.particles}")
        record = evaluate_run(
            args.run_dir,
            steps=steps,
            episodes=args.episodes,
            seeds=seeds,
            simulators=sims,
            key=args.key,
            num_particles=args.particles,
            skip_evaluated=args.skip_evaluated,
        )
    except EvaluationError as err:
        print(f"evaluate: {err}", file=sys.stderr)
        return 2
    path = os.path.join(os.path.abspath(args.run_dir), EVAL_FILE)
    print(f"written: {path}" if record["checkpoints"] else f"nothing to evaluate; {path} as it was")
    return 0


if __name__ == "__main__":
    sys.exit(main())
