"""A 2-D multimodal bandit: does the learned sampler cover every mode with its Boltzmann mass?

One-step task on the action box [-1, 1]^2 with a constant dummy observation: the reward is a
sum of four Gaussian bumps and every episode terminates at once, so the optimal critic is
Q*(a) = reward_scale * r(a) and the soft policy is exp(w Q*(a)) -- a known four-mode density
whose per-mode masses are computed by grid quadrature. NC-LQL and LQL are trained with the
real `Agent` at the same Langevin budget in one jitted `lax.scan`; afterwards each method's
sampler is asked for thousands of actions, every action is assigned to its nearest mode (or to
"none"), and the mode frequencies are compared with the Boltzmann masses.

    python -m mjx_nclql.bandit2d [--steps N] [--out docs/] [--seed S] [--small]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import flashbax as fbx
import jax
import jax.numpy as jnp
import numpy as np

from mjx_nclql.algo.agent import Agent, AgentState, Batch
from mjx_nclql.algo.noise import noise_levels
from mjx_nclql.algo.sampler import annealed_langevin, langevin
from mjx_nclql.core.config import AlgoConfig, CriticConfig, SamplerConfig
from mjx_nclql.core.files import atomic_path, write_text

# --- the task ---------------------------------------------------------------------------------

# Equal heights, unequal widths: the modes' masses differ through their volume. (Unequal heights
# would be a harder case for NC-LQL: Gaussian smoothing of Q shrinks a peak by s^2/(s^2+sigma^2),
# so height differences fade at exactly the coarse levels where the chain can still move between
# modes -- see docs/bandit2d.md.)
CENTERS = np.array([[0.5, 0.45], [-0.55, 0.5], [-0.45, -0.55], [0.55, -0.5]], np.float32)
WIDTHS = np.array([0.24, 0.18, 0.14, 0.10], np.float32)
HEIGHTS = np.array([5.0, 5.0, 5.0, 5.0], np.float32)  # raw reward; Q* peaks at 0.2 * 5 = 1
MODE_NAMES = ("A", "B", "C", "D")
MODE_RADIUS = 0.35  # an action farther than this from every centre counts as "none"
VISIT_THRESHOLD = 0.01  # a mode is "visited" when it receives at least 1% of the samples
OBS_DIM = 1


def reward(actions: jax.Array) -> jax.Array:
    """r(a) = sum_k h_k exp(-|a - c_k|^2 / 2 s_k^2); actions [B, 2] -> [B]."""
    d2 = jnp.sum((actions[:, None, :] - jnp.asarray(CENTERS)[None]) ** 2, axis=-1)
    return jnp.sum(jnp.asarray(HEIGHTS) * jnp.exp(-d2 / (2 * jnp.asarray(WIDTHS) ** 2)), -1)


def smoothed_q(reward_scale: float, sigmas: jax.Array):
    """Exact critic family Q_l(a) = E_e[Q*(a + sigma_l e)] (closed form for Gaussian bumps).

    Used as a reference: the sampler run on the true landscape separates sampler error from
    critic-learning error.
    """
    c, s2, h = jnp.asarray(CENTERS), jnp.asarray(WIDTHS) ** 2, jnp.asarray(HEIGHTS)

    def q(obs: jax.Array, a: jax.Array, level: jax.Array) -> jax.Array:
        v = s2 + sigmas[level] ** 2
        d2 = jnp.sum((a[:, None, :] - c[None]) ** 2, axis=-1)
        return reward_scale * jnp.sum(h * s2 / v * jnp.exp(-d2 / (2 * v)), -1)[None]

    return q


def assign_modes(actions: np.ndarray) -> np.ndarray:
    """Index of the nearest centre (0..3), or 4 ("none") beyond MODE_RADIUS of every centre."""
    d2 = np.sum((actions[:, None, :] - CENTERS[None]) ** 2, axis=-1)
    near = np.argmin(d2, axis=1)
    return np.where(np.sqrt(d2.min(axis=1)) > MODE_RADIUS, len(CENTERS), near)


def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centred n x n grid of the box: (1-D axis, [n*n, 2] points)."""
    g = (np.arange(n, dtype=np.float32) + 0.5) / n * 2 - 1
    return g, np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)


def mode_masses(q_values: np.ndarray, points: np.ndarray, w: float) -> np.ndarray:
    """Mass of exp(w Q) in each mode and in "none", by quadrature over grid `points`."""
    p = np.exp(w * (q_values - q_values.max()))
    m = np.bincount(assign_modes(points), p, minlength=len(CENTERS) + 1)
    return m / m.sum()


# --- configuration ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BanditConfig:
    """Sizes of one comparison. The defaults are the full run; `small()` is the test's."""

    steps: int = 3000  # training iterations, one update each
    warmup: int = 4096  # uniform-random transitions before the first update
    actions_per_step: int = 2  # transitions collected per iteration with the current sampler
    batch_size: int = 256
    buffer_size: int = 32_768
    hidden: tuple[int, ...] = (128, 128)
    lr: float = 3e-3
    reward_scale: float = 0.2
    w: float = 12.0  # w * reward_scale * 5 = 12 nats between a peak and the floor
    num_levels: int = 10
    steps_per_level: int = 10
    sigma_max: float = 0.7  # about the centres' spacing: the top level merges all four modes
    sigma_min: float = 0.02
    eps: float = 1e-3  # NC-LQL's step at the sharpest level
    lql_eps: float = 1e-2  # LQL's one step size, the best of a sweep (docs/bandit2d.md)
    methods: tuple[str, ...] = ("nclql", "lql")
    grad_norms: tuple[bool, ...] = (False, True)
    eval_samples: int = 5000
    grid_n: int = 201
    seed: int = 0

    @classmethod
    def small(cls, **kw: Any) -> BanditConfig:
        base = dict(steps=1500, batch_size=128, grad_norms=(False,), eval_samples=4000)
        return cls(**{**base, **kw})


def algo_configs(cfg: BanditConfig, grad_norm: bool) -> dict[str, AlgoConfig]:
    """NC-LQL and LQL at the same cost: L*T gradient evaluations per sampled action."""
    critic = CriticConfig(hidden_sizes=cfg.hidden)
    common = dict(critic=critic, lr=cfg.lr, reward_scale=cfg.reward_scale)
    nc = SamplerConfig(
        w=cfg.w,
        num_levels=cfg.num_levels,
        steps_per_level=cfg.steps_per_level,
        sigma_max=cfg.sigma_max,
        sigma_min=cfg.sigma_min,
        eps=cfg.eps,
        grad_norm=grad_norm,
    )
    plain = dataclasses.replace(
        nc, num_levels=1, steps_per_level=cfg.num_levels * cfg.steps_per_level, eps=cfg.lql_eps
    )
    configs = {
        "nclql": AlgoConfig(variant="nclql", sampler=nc, **common),
        "lql": AlgoConfig(variant="lql", sampler=plain, **common),
    }
    return {name: configs[name] for name in cfg.methods}


# --- training --------------------------------------------------------------------------------


def _transitions(actions: jax.Array) -> Batch:
    n = actions.shape[0]
    obs = jnp.zeros((n, OBS_DIM), jnp.float32)
    return Batch(
        obs=obs, action=actions, reward=reward(actions), next_obs=obs, terminated=jnp.ones((n,), jnp.float32)
    )


def make_train(algo: AlgoConfig, cfg: BanditConfig):
    """Jitted `key -> (AgentState, td_loss per iteration)` for one method.

    `Agent.update` samples a' from s' with the full sampler, but every transition here is
    terminal, so a' is multiplied by zero in the target. The update therefore runs through a
    second `Agent` whose sampler takes one step per level: same networks, noise levels and
    losses, the same parameter update, a fraction of the cost.
    """
    agent = Agent(algo, OBS_DIM, 2)
    cheap = dataclasses.replace(algo.sampler, steps_per_level=1)
    updater = Agent(dataclasses.replace(algo, sampler=cheap), OBS_DIM, 2)
    buffer = fbx.make_item_buffer(
        max_length=cfg.buffer_size,
        min_length=cfg.batch_size,
        sample_batch_size=cfg.batch_size,
        add_batches=True,
    )
    obs = jnp.zeros((cfg.actions_per_step, OBS_DIM), jnp.float32)

    def train(key: jax.Array) -> tuple[AgentState, jax.Array]:
        init_key, warm_key, key = jax.random.split(key, 3)
        state = agent.init(init_key)
        example = jax.tree.map(lambda x: x[0], _transitions(jnp.zeros((1, 2))))
        buf = buffer.init(example)
        warm = jax.random.uniform(warm_key, (cfg.warmup, 2), minval=-1.0, maxval=1.0)
        buf = buffer.add(buf, _transitions(warm))

        def iteration(carry: tuple, k: jax.Array) -> tuple[tuple, jax.Array]:
            state, buf = carry
            act_key, sample_key, update_key = jax.random.split(k, 3)
            actions = agent.act(state.params, obs, act_key)
            buf = buffer.add(buf, _transitions(actions))
            batch = buffer.sample(buf, sample_key).experience
            state, metrics = updater.update(state, batch, update_key)
            return (state, buf), metrics["td_loss"]

        (state, _), td = jax.lax.scan(iteration, (state, buf), jax.random.split(key, cfg.steps))
        return state, td

    return agent, jax.jit(train)


# --- evaluation ------------------------------------------------------------------------------


def coverage(actions: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    """Per-mode frequencies (+ "none"), fraction of modes visited, total variation to weights."""
    freq = np.bincount(assign_modes(actions), minlength=len(CENTERS) + 1) / len(actions)
    return {
        "frequencies": freq.round(4).tolist(),
        "modes_visited": float(np.mean(freq[: len(CENTERS)] >= VISIT_THRESHOLD)),
        "total_variation": float(0.5 * np.abs(freq - weights).sum()),
    }


def _sample(q_fn: Any, algo: AlgoConfig, n: int, key: jax.Array) -> np.ndarray:
    fn = annealed_langevin if algo.noise_conditioned else langevin
    obs = jnp.zeros((n, OBS_DIM), jnp.float32)
    return np.asarray(jax.jit(lambda k: fn(q_fn, obs, k, algo.sampler, 2))(key))


def evaluate(
    agent: Agent, state: AgentState, cfg: BanditConfig, weights: np.ndarray, key: jax.Array
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Coverage of the trained sampler and the critic's error on a grid; also samples, Q grid."""
    algo = agent.cfg
    sample_key, exact_key = jax.random.split(key)
    actions = _sample(agent.chain_critic(state.params), algo, cfg.eval_samples, sample_key)
    _, pts = grid(cfg.grid_n)
    sharp = jnp.asarray(agent.sharpest, jnp.int32)
    q_learned = np.asarray(
        agent.apply(state.params, jnp.zeros((len(pts), OBS_DIM)), jnp.asarray(pts), sharp)
    ).mean(axis=0)
    q_true = cfg.reward_scale * np.asarray(reward(jnp.asarray(pts)))
    boltz = np.exp(cfg.w * (q_true - q_true.max()))
    boltz /= boltz.sum()
    err = np.abs(q_learned - q_true)
    # The same sampler on the exact (analytically smoothed) critic: the sampler's own error.
    sigmas = noise_levels(algo.sampler.sigma_max, algo.sampler.sigma_min, algo.sampler.num_levels)
    exact = _sample(smoothed_q(cfg.reward_scale, sigmas), algo, cfg.eval_samples, exact_key)
    learned_masses = mode_masses(q_learned, pts, cfg.w)
    out = {
        **coverage(actions, weights),
        "q_mae_grid": float(err.mean()),
        "q_mae_boltzmann_weighted": float((err * boltz).sum()),
        "learned_q_boltzmann_masses": learned_masses.round(4).tolist(),
        "learned_q_boltzmann_tv": float(0.5 * np.abs(learned_masses - weights).sum()),
        "exact_q_sampler": coverage(exact, weights),
    }
    return out, actions, q_learned


def run(cfg: BanditConfig, out_dir: str | Path | None = None, verbose: bool = True) -> dict[str, Any]:
    """Train every method, evaluate, optionally write figure + JSON; returns the results."""
    _, pts = grid(cfg.grid_n)
    q_true = cfg.reward_scale * np.asarray(reward(jnp.asarray(pts)))
    weights = mode_masses(q_true, pts, cfg.w)
    results: dict[str, Any] = {
        "config": dataclasses.asdict(cfg),
        "task": {
            "centers": CENTERS.tolist(),
            "widths": WIDTHS.tolist(),
            "heights": HEIGHTS.tolist(),
            "mode_radius": MODE_RADIUS,
            "boltzmann_masses": weights.round(4).tolist(),
            "categories": [*MODE_NAMES, "none"],
        },
        "methods": {},
    }
    samples: dict[str, np.ndarray] = {}
    q_grids: dict[str, np.ndarray] = {}
    key = jax.random.key(cfg.seed)
    for gn in cfg.grad_norms:
        for name, algo in algo_configs(cfg, gn).items():
            label = f"{name}{'-gradnorm' if gn else ''}"
            train_key, eval_key = jax.random.split(jax.random.fold_in(key, int(gn)))
            agent, train = make_train(algo, cfg)
            t0 = time.perf_counter()
            state, td = train(train_key)
            td = np.asarray(jax.block_until_ready(td))
            seconds = time.perf_counter() - t0
            res, actions, q_learned = evaluate(agent, state, cfg, weights, eval_key)
            res.update(
                variant=name,
                grad_norm=gn,
                train_seconds=round(seconds, 1),
                final_td_loss=float(td[-100:].mean()),
                sampler=dataclasses.asdict(algo.sampler),
            )
            results["methods"][label] = res
            samples[label], q_grids[label] = actions, q_learned
            if verbose:
                print(f"trained {label:18s} in {seconds:6.1f} s", flush=True)
    if verbose:
        print_table(results)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_text(str(out / "bandit2d.json"), json.dumps(results, indent=2) + "\n")
        plot(results, samples, q_grids, cfg, out / "bandit2d.png")
    return results


def print_table(results: dict[str, Any]) -> None:
    cats = results["task"]["categories"]
    head = f"{'method':18s} {'visited':>7s} {'TV':>6s} {'TV(exactQ)':>10s} {'Q MAE':>6s} "
    print(head + " ".join(f"{c:>6s}" for c in cats))
    print(
        f"{'Boltzmann':18s} {1.0:7.2f} {0.0:6.3f} {'':>10s} {'':>6s} "
        + " ".join(f"{x:6.3f}" for x in results["task"]["boltzmann_masses"])
    )
    for label, r in results["methods"].items():
        print(
            f"{label:18s} {r['modes_visited']:7.2f} {r['total_variation']:6.3f} "
            f"{r['exact_q_sampler']['total_variation']:10.3f} {r['q_mae_grid']:6.3f} "
            + " ".join(f"{x:6.3f}" for x in r["frequencies"])
        )


# --- figure ----------------------------------------------------------------------------------


def _mark_modes(ax: Any) -> None:
    """The modes' circles and names on a panel of the action square."""
    from matplotlib.patches import Circle

    for (x, y), name in zip(CENTERS, MODE_NAMES, strict=True):
        ax.add_patch(Circle((x, y), MODE_RADIUS, fill=False, ls="--", lw=0.8, color="k"))
        ax.text(x, y + MODE_RADIUS + 0.03, name, ha="center", fontsize=9)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_aspect("equal")


def _plot_frequencies(ax: Any, results: dict[str, Any], methods: list[str]) -> None:
    """Per-mode sample frequency of each method beside the Boltzmann masses."""
    cats = results["task"]["categories"]
    width = 0.8 / (len(methods) + 1)
    xs = np.arange(len(cats))
    ax.bar(xs, results["task"]["boltzmann_masses"], width, label="Boltzmann", color="k")
    for i, m in enumerate(methods):
        ax.bar(xs + (i + 1) * width, results["methods"][m]["frequencies"], width, label=m)
    ax.set_xticks(xs + 0.4 - width / 2, cats)
    ax.set_ylabel("fraction of samples")
    ax.legend(fontsize=8)
    ax.set_title("per-mode frequency")


def plot(
    results: dict[str, Any],
    samples: dict[str, np.ndarray],
    q_grids: dict[str, np.ndarray],
    cfg: BanditConfig,
    path: Path,
) -> None:
    """Landscape, Boltzmann density, per-mode bars and every method's samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g, pts = grid(cfg.grid_n)
    n = cfg.grid_n
    r = np.asarray(reward(jnp.asarray(pts))).reshape(n, n)
    dens = np.exp(cfg.w * cfg.reward_scale * (r - r.max()))
    methods = list(results["methods"])
    ncols = max(3, len(methods))
    fig, axes = plt.subplots(2, ncols, figsize=(4.2 * ncols, 8.4), squeeze=False)
    ext = (-1, 1, -1, 1)
    w_masses = results["task"]["boltzmann_masses"]

    ax = axes[0, 0]
    im = ax.imshow(r, origin="lower", extent=ext, cmap="viridis")
    fig.colorbar(im, ax=ax, fraction=0.046)
    _mark_modes(ax)
    ax.set_title("reward r(a)")
    ax = axes[0, 1]
    ax.imshow(dens, origin="lower", extent=ext, cmap="magma")
    _mark_modes(ax)
    ax.set_title("Boltzmann exp(w Q*)  masses " + "/".join(f"{m:.2f}" for m in w_masses[:4]), fontsize=9)
    _plot_frequencies(axes[0, 2], results, methods)
    for j in range(3, ncols):
        axes[0, j].axis("off")
    for j, m in enumerate(methods):
        ax = axes[1, j]
        res = results["methods"][m]
        ax.contour(g, g, dens, levels=[0.01, 0.1, 0.5], colors="0.6", linewidths=0.7)
        x = samples[m][:2000]
        ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.4)
        _mark_modes(ax)
        ax.set_title(
            f"{m}: visited {res['modes_visited']:.2f}, TV {res['total_variation']:.3f}\n"
            f"Q MAE {res['q_mae_grid']:.3f}",
            fontsize=9,
        )
    for j in range(len(methods), ncols):
        axes[1, j].axis("off")
    fig.suptitle(
        f"2-D bandit, w={cfg.w}, reward scale {cfg.reward_scale}, "
        f"{cfg.steps} updates, L*T={cfg.num_levels * cfg.steps_per_level}"
    )
    fig.tight_layout()
    with atomic_path(str(path), ".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=None, help="training iterations (updates)")
    p.add_argument("--out", default="docs/", help="directory for bandit2d.png/.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--small", action="store_true", help="the quick version the test runs")
    p.add_argument("--lql-eps", type=float, default=None, help="LQL's step size")
    p.add_argument("--methods", default=None, help="comma-separated subset of nclql,lql")
    p.add_argument(
        "--grad-norm",
        choices=("off", "on", "both"),
        default=None,
        help="which gradient-normalisation settings to run (default: both; --small: off)",
    )
    args = p.parse_args(argv)
    kw: dict[str, Any] = {"seed": args.seed}
    if args.steps is not None:
        kw["steps"] = args.steps
    if args.lql_eps is not None:
        kw["lql_eps"] = args.lql_eps
    if args.methods is not None:
        kw["methods"] = tuple(args.methods.split(","))
        if not set(kw["methods"]) <= {"nclql", "lql"}:
            p.error(f"--methods: choose from nclql,lql; got {args.methods}")
    if args.grad_norm is not None:
        kw["grad_norms"] = {"off": (False,), "on": (True,), "both": (False, True)}[args.grad_norm]
    cfg = BanditConfig.small(**kw) if args.small else BanditConfig(**kw)
    t0 = time.perf_counter()
    results = run(cfg, out_dir=args.out)
    print(f"total {time.perf_counter() - t0:.1f} s")
    return results


if __name__ == "__main__":
    main()
