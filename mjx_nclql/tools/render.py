"""`python -m mjx_nclql.render RUN_DIR`: watch a trained agent play its MJX task.

The run's policy (one seed, one checkpoint) plays `--episodes` episodes on the run's MJX task
as evaluation does (the key is used as `mjx_nclql.runtime.rollout.run_episodes` uses it, so
both play the same episodes from the same key, up to float rounding); the joint trajectories
are then drawn on the host with MuJoCo C's kinematics:

- `--format html` (default): Brax's interactive three.js viewer (`runtime/recording.py`, the
  page a training run with `log.render` writes too), one self-contained page that any browser
  plays without a GPU or display. The page loads the viewer's JavaScript (three.js, lil-gui,
  pako, Brax's viewer.js) from public CDNs.
- `--format mp4`: frames from `mujoco.Renderer` through the task's tracking camera, encoded
  with imageio-ffmpeg. Needs an OpenGL backend: `MUJOCO_GL=egl` on a GPU machine,
  `MUJOCO_GL=osmesa` (Debian: `apt-get install libosmesa6`) on a CPU.

`--step` names the checkpoint by post-warm-up transitions per seed, as metrics.jsonl's
`post_warmup_steps` counts them; the default output is named after it too.

    python -m mjx_nclql.render runs/hopper-nclql-s0                    # rollout-<step>.html
    python -m mjx_nclql.render runs/hopper-nclql-s0 --format mp4 --episodes 3 --out hop.mp4
    python -m mjx_nclql.render runs/hopper-nclql-s0 --step 150000 --seed-index 1
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from mjx_nclql.core.files import atomic_path, write_text
from mjx_nclql.runtime.recording import (
    Episode,
    RenderError,
    body_poses,
    record_episodes,
    require_mujoco_model,
    stacked_frames,
    to_html,
)

__all__ = [
    "Episode",
    "RenderError",
    "body_poses",
    "frame_stride",
    "main",
    "render_run",
    "rollout",
    "to_html",
    "to_mp4",
]

FORMATS = ("html", "mp4")
GL_HINT = (
    "set MUJOCO_GL=egl (GPU machine) or MUJOCO_GL=osmesa (CPU; Debian: apt-get install "
    "libosmesa6) before starting Python, or use --format html"
)


# ---------------------------------------------------------------------------- the rollout


def rollout(policy: Any, env: Any, key: Any, episodes: int = 1) -> list[Episode]:
    """Play `episodes` episodes of `policy` (a `mjx_nclql.Policy`) on `env` (its MJX task):
    `recording.record_episodes` with the policy's sampler and parameters."""
    return record_episodes(env, policy.act, policy.params, key, episodes)


# ---------------------------------------------------------------------------- MP4 (MuJoCo renderer)


def make_renderer(mj_model: Any, width: int, height: int) -> Any:
    """`mujoco.Renderer`, or a RenderError naming the MUJOCO_GL setting when no OpenGL
    backend works (no display, no EGL device, no OSMesa library)."""
    import mujoco

    model = copy.deepcopy(mj_model)  # the offscreen buffer must hold the frame
    model.vis.global_.offwidth = max(width, model.vis.global_.offwidth)
    model.vis.global_.offheight = max(height, model.vis.global_.offheight)
    backend = os.environ.get("MUJOCO_GL", "") or "default (glfw)"
    if not hasattr(mujoco, "Renderer"):  # mujoco could not import the backend's GL library
        raise RenderError(f"MuJoCo has no OpenGL backend (MUJOCO_GL={backend} failed to load); " + GL_HINT)
    try:
        return mujoco.Renderer(model, height, width)
    except Exception as err:  # EGLError, FatalError, ImportError, ...: all mean "no GL here"
        raise RenderError(
            f"cannot create an OpenGL context with MUJOCO_GL={backend} ({_reason(err)}); " + GL_HINT
        ) from err


def _reason(err: BaseException) -> str:
    """An exception as a short one-line reason."""
    text = str(err).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(err).__name__}: {line}"[:160] if line else type(err).__name__


def tracking_camera(mj_model: Any) -> Any:
    """The task XML's own tracking camera ("track", as Gymnasium renders), else a free camera
    that tracks the root body."""
    import mujoco

    cam_id = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_CAMERA, "track")
    if cam_id >= 0:
        return cam_id
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    cam.trackbodyid = 1 if mj_model.nbody > 1 else 0
    cam.distance = 2.0 * float(mj_model.stat.extent)
    cam.elevation, cam.azimuth = -15.0, 90.0
    return cam


def frame_stride(dt: float, max_fps: float) -> int:
    """Smallest k such that every k-th frame (k * dt seconds apart) plays at <= max_fps."""
    return max(1, int(np.ceil(1.0 / (dt * max_fps) - 1e-9)))


def to_mp4(
    env: Any,
    episode: Episode | Sequence[Episode],
    path: str,
    *,
    width: int = 640,
    height: int = 480,
    max_fps: float = 60.0,
) -> int:
    """Write the episode(s) as an H.264 MP4 through the tracking camera, in real time: every
    k-th frame at 1 / (k * env.dt) fps, the smallest k that keeps fps <= `max_fps`. Returns
    the number of video frames. Needs an OpenGL backend (see `make_renderer`)."""
    import imageio.v2 as imageio
    import mujoco

    require_mujoco_model(env)
    qpos, qvel = stacked_frames(episode)
    stride = frame_stride(env.dt, max_fps)
    fps = 1.0 / (env.dt * stride)
    renderer = make_renderer(env.mj_model, width, height)
    try:
        model, data = env.mj_model, mujoco.MjData(env.mj_model)
        camera = tracking_camera(model)
        count = 0
        with atomic_path(path, ".mp4") as tmp, warnings.catch_warnings():
            # JAX warns on any fork; imageio-ffmpeg's fork is followed at once by exec(ffmpeg).
            warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")
            writer = imageio.get_writer(
                tmp,
                format="FFMPEG",
                mode="I",
                fps=fps,
                codec="libx264",
                pixelformat="yuv420p",
                macro_block_size=16,
            )
            try:
                for q, v in zip(qpos[::stride], qvel[::stride], strict=True):
                    data.qpos[:], data.qvel[:] = q, v
                    mujoco.mj_forward(model, data)
                    renderer.update_scene(data, camera=camera)
                    writer.append_data(renderer.render())
                    count += 1
            finally:
                writer.close()
    finally:
        renderer.close()
    return count


# ---------------------------------------------------------------------------- the CLI


def check_run(run_dir: str, step: int | None) -> tuple[Any, int, int]:
    """(config, post-warm-up transitions, checkpoint chunk) of a renderable run at `step`
    post-warm-up transitions (None: the newest checkpoint), or a RenderError saying what is
    wrong."""
    from mjx_nclql.runtime.saved_run import RunDirError, checkpoint_at, saved_run

    def has_model(cfg: Any) -> str | None:
        from envs.registry import capabilities

        if not capabilities(cfg.env.name).mujoco_model:
            return (
                f"env {cfg.env.name!r} is an analytic probe task without a MuJoCo model: "
                "there is nothing to render"
            )
        return None

    try:
        cfg, chunks = saved_run(run_dir, "render", has_model)
        return (cfg, *checkpoint_at(cfg, chunks, step, run_dir))
    except RunDirError as err:
        raise RenderError(str(err)) from err


def render_run(
    run_dir: str,
    *,
    fmt: str = "html",
    episodes: int = 1,
    out: str | None = None,
    step: int | None = None,
    seed_index: int = 0,
    key: int = 0,
    echo: Any = print,
) -> tuple[str, list[Episode]]:
    """Play and write a run's rollout (what the CLI does) from the checkpoint at `step`
    post-warm-up transitions (None: the newest); returns (written path, episodes)."""
    import jax

    from mjx_nclql.core.config import ConfigError
    from mjx_nclql.runtime import compile_cache
    from mjx_nclql.runtime.build import make_env
    from mjx_nclql.runtime.checkpoint import CheckpointError
    from mjx_nclql.runtime.policy import load

    if fmt not in FORMATS:
        raise RenderError(f"unknown format {fmt!r}; choose from {list(FORMATS)}")
    if episodes < 1:
        raise RenderError(f"--episodes must be >= 1, got {episodes}")
    run_dir = os.path.abspath(run_dir)
    cfg, step, chunk = check_run(run_dir, step)
    if not 0 <= seed_index < cfg.num_seeds:
        raise RenderError(
            f"--seed-index {seed_index} out of range: the run has {cfg.num_seeds} "
            f"seed(s), indices 0..{cfg.num_seeds - 1}"
        )
    out = os.path.abspath(out or os.path.join(run_dir, f"rollout-{step}.{fmt}"))
    if os.path.isdir(out) or not os.path.isdir(os.path.dirname(out)):
        raise RenderError(f"--out must be a file in an existing directory, got {out}")
    try:
        env = make_env(cfg)
    except ConfigError as err:
        raise RenderError(str(err)) from err
    require_mujoco_model(env)
    if fmt == "mp4":  # a missing GL backend fails here, before the slow part
        make_renderer(env.mj_model, 64, 48).close()
    compile_cache.enable(cfg.compile_cache)
    try:
        policy = load(run_dir, seed_index=seed_index, step=chunk)
    except (CheckpointError, ValueError) as err:
        raise RenderError(str(err)) from err
    eps = rollout(policy, env, jax.random.PRNGKey(key), episodes)
    for i, ep in enumerate(eps):
        end = "non-finite physics" if ep.nonfinite else "terminated" if ep.terminated else "truncated"
        echo(f"episode {i}: return {ep.episode_return:.2f}, length {ep.length} ({end})")
    if fmt == "html":
        title = (
            f"{cfg.env.name} {cfg.algo.variant} step {step} (checkpoint {chunk}) seed {cfg.seed + seed_index}"
        )
        write_text(out, to_html(env, eps, title=title))
    else:
        to_mp4(env, eps, out)
    echo(f"written: {out}")
    return out, eps


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors read like the others, exit 2
        print(f"render: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    from mjx_nclql.tools.cli_help import command_parser

    parser = command_parser(
        "mjx_nclql.render",
        "Play a run's policy on its MJX task and write the rollout as an interactive 3-D\n"
        "page (html, Brax's viewer) or a video (mp4, MuJoCo's renderer).",
        __doc__,
        _Parser,
    )
    parser.add_argument(
        "run_dir", metavar="RUN_DIR", help="a training run's directory (config.yaml and checkpoints/)"
    )
    parser.add_argument(
        "--format",
        default="html",
        help="html: Brax's interactive viewer page; mp4: a video (needs MUJOCO_GL)",
    )
    parser.add_argument("--episodes", type=int, default=1, help="episodes, played one after another")
    parser.add_argument("--out", default=None, help="output file (default: RUN_DIR/rollout-<step>.<format>)")
    parser.add_argument(
        "--step",
        type=int,
        default=None,
        metavar="TRANSITIONS",
        help="the checkpoint at this many post-warm-up transitions per seed, as "
        "metrics.jsonl's post_warmup_steps counts them (e.g. 150000); a value "
        "without a checkpoint is an error that lists the valid ones "
        "(default: the newest checkpoint)",
    )
    parser.add_argument(
        "--seed-index", type=int, default=0, help="which seed of the run (0 .. num_seeds - 1)"
    )
    parser.add_argument("--key", type=int, default=0, help="rollout randomness (resets, sampler)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:  # MuJoCo loads the OpenGL library that $MUJOCO_GL names when it is imported
        from envs import _quiet  # noqa: F401  (MuJoCo/MJX import noise)
    except (ImportError, RuntimeError, AttributeError) as err:
        backend = os.environ.get("MUJOCO_GL", "")
        print(
            f"render: cannot import MuJoCo with MUJOCO_GL={backend} ({_reason(err)}); " + GL_HINT,
            file=sys.stderr,
        )
        return 2
    try:
        render_run(
            args.run_dir,
            fmt=args.format.lower(),
            episodes=args.episodes,
            out=args.out,
            step=args.step,
            seed_index=args.seed_index,
            key=args.key,
        )
    except RenderError as err:
        print(f"render: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
