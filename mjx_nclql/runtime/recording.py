"""Recorded rollouts and the 3-D viewer page, shared by a training run and `render`.

A run with `log.render` writes a page at every evaluation (`Outputs`), and `python -m
mjx_nclql.render` writes one from a checkpoint: both record episodes here, as
`rollout.play_episodes` plays them (the same key gives an evaluation's episodes, up to float
rounding),
and draw them with Brax's interactive three.js viewer (`brax.io.html`), one self-contained
page that any browser plays without a GPU or display; its JavaScript (three.js, lil-gui,
pako, Brax's viewer.js) loads from public CDNs. jax, MuJoCo and Brax are imported where used,
so `render --help` answers at once.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import warnings
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from mjx_nclql.core.errors import MjxNclqlError

if TYPE_CHECKING:
    from envs.base import MjxEnv
    from envs.protocol import Env
    from mjx_nclql.runtime.rollout import ActFn


class RenderError(MjxNclqlError, RuntimeError):
    """Bad input or a missing capability; the CLI prints it as one line and exits 2."""


@dataclasses.dataclass(frozen=True)
class Episode:
    """One episode, trimmed at its end. Frame 0 is the reset state, frame t the state after
    step t, so there are `length + 1` frames (fewer only if the physics went non-finite: the
    non-finite frames are dropped, there is nothing to draw)."""

    qpos: np.ndarray  # [frames, nq]
    qvel: np.ndarray  # [frames, nv]
    rewards: np.ndarray  # [length]
    episode_return: float
    length: int
    terminated: bool  # False: truncated at env.episode_length
    nonfinite: bool


@functools.lru_cache(maxsize=8)  # one compiled program per (env, policy, count): a training
def _episode_program(env: Env, act: ActFn, episodes: int) -> Any:  # run renders every evaluation
    """(params, key) -> (episode stats, reset (qpos, qvel), per-step (qpos, qvel, reward,
    terminated, nonfinite)), all episodes batched: `run_episodes`'s episodes, recorded."""
    import jax

    from mjx_nclql.runtime.rollout import play_episodes

    def record(state: Any) -> tuple:
        return (state.data.qpos, state.data.qvel, state.reward, state.terminated, state.info["nonfinite"])

    def program(params: Any, key: jax.Array) -> tuple[Any, Any, Any]:
        stats, first, steps = play_episodes(env, act, params, key, episodes, record)
        return stats, first[:2], steps

    return jax.jit(program)


def record_episodes(env: Env, act: ActFn, params: Any, key: Any, episodes: int = 1) -> list[Episode]:
    """Play `episodes` episodes of `act(params, obs, key)` on `env` (an MJX task) to
    termination or truncation: one compiled scan of `env.episode_length` steps for all of
    them, trimmed per episode on the host."""
    import jax

    if not isinstance(episodes, int) or episodes < 1:
        raise RenderError(f"episodes must be a positive integer, got {episodes!r}")
    require_mujoco_model(env)
    if isinstance(key, int):
        key = jax.random.PRNGKey(key)
    stats, first, steps = jax.device_get(_episode_program(env, act, episodes)(params, key))
    qpos0, qvel0 = (np.asarray(x, np.float64) for x in first)
    qpos, qvel, reward, terminated, nonfinite = (np.asarray(x) for x in steps)
    out = []
    for i in range(episodes):
        length = int(stats.lengths[i])  # steps taken until (and including) the last one
        frames_q = np.concatenate([qpos0[i][None], qpos[:length, i]]).astype(np.float64)
        frames_v = np.concatenate([qvel0[i][None], qvel[:length, i]]).astype(np.float64)
        finite = np.all(np.isfinite(frames_q), axis=1) & np.all(np.isfinite(frames_v), axis=1)
        keep = int(np.argmin(finite)) if not finite.all() else len(finite)
        rewards = reward[:length, i].astype(np.float64)
        out.append(
            Episode(
                qpos=frames_q[:keep],
                qvel=frames_v[:keep],
                rewards=rewards,
                episode_return=float(rewards.sum()),
                length=length,
                terminated=bool(length and terminated[length - 1, i]),
                nonfinite=bool(length and nonfinite[:length, i].any()),
            )
        )
    return out


def require_mujoco_model(env: Env) -> None:
    """Analytic probe tasks have no bodies to draw."""
    if getattr(env, "mj_model", None) is None:
        raise RenderError(
            f"env {getattr(env, 'name', type(env).__name__)!r} has no MuJoCo model "
            "(a probe task?): there is nothing to render"
        )


def stacked_frames(episode: Episode | Sequence[Episode]) -> tuple[np.ndarray, np.ndarray]:
    """(qpos, qvel) of one episode, or of several played one after the other."""
    eps = [episode] if isinstance(episode, Episode) else list(episode)
    if not eps or not any(len(e.qpos) for e in eps):
        raise RenderError("no frames to render")
    return np.concatenate([e.qpos for e in eps]), np.concatenate([e.qvel for e in eps])


def body_poses(mj_model: Any, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World positions [F, nbody, 3] and quaternions (w, x, y, z) [F, nbody, 4] of every body
    (the world body first) at each frame, by MuJoCo C's forward kinematics."""
    import mujoco

    data = mujoco.MjData(mj_model)
    xpos = np.empty((len(qpos), mj_model.nbody, 3))
    xquat = np.empty((len(qpos), mj_model.nbody, 4))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(mj_model, data)
        xpos[t], xquat[t] = data.xpos, data.xquat
    return xpos, xquat


def brax_system(env: MjxEnv) -> Any:
    """The Brax `System` of the task's model, for Brax's viewer: geometry from the model, and
    `opt.timestep` set to `env.dt`, the time between our frames (the viewer's clock)."""
    from brax.io import mjcf

    require_mujoco_model(env)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Brax System ... not actively maintained"
        sys_ = mjcf.load_model(copy.deepcopy(env.mj_model))  # load_model writes into its model
    return sys_.replace(opt=sys_.opt.replace(timestep=env.dt))


def brax_states(env: MjxEnv, qpos: np.ndarray, qvel: np.ndarray) -> list[Any]:
    """One Brax `State` per frame; the viewer only reads `x`: the pose of each link (Brax's
    links are MuJoCo's bodies without the world body). Rounded to 0.1 mm / 1e-5, which keeps
    the page small without a visible difference."""
    from brax import base

    xpos, xquat = body_poses(env.mj_model, qpos)
    zeros = np.zeros((env.mj_model.nbody - 1, 3))
    return [
        base.State(
            q=q,
            qd=qd,
            x=base.Transform(pos=np.round(p[1:], 4), rot=np.round(r[1:], 5)),
            xd=base.Motion(ang=zeros, vel=zeros),
            contact=None,
        )
        for q, qd, p, r in zip(qpos, qvel, xpos, xquat, strict=True)
    ]


def to_html(env: MjxEnv, episode: Episode | Sequence[Episode], title: str | None = None) -> str:
    """A self-contained page with Brax's interactive 3-D viewer playing the episode(s) in real
    time (drag to orbit, the panel has play/pause and a time slider). The viewer's JavaScript
    comes from CDNs, as brax's template says: the page needs a network connection to open."""
    from brax.io import html

    qpos, qvel = stacked_frames(episode)
    page = html.render(brax_system(env), brax_states(env, qpos, qvel), height="100vh", colab=False)
    if title:
        page = page.replace("<title>Brax visualizer</title>", f"<title>{escape(title)}</title>", 1)
    return page
