"""`python -m mjx_nclql.render`: a trained Hopper policy's rollout as Brax's viewer page, opened
in a real headless Chromium, and as an MP4 from MuJoCo's renderer on OSMesa.

System packages (Debian): `chromium` and `npm` for the browser test, `libosmesa6` for the MP4
test; each test skips, saying which package is missing, where they are not installed. The
viewer page loads its JavaScript from CDNs; the browser test serves those exact URLs itself
(Playwright request interception) from the installed brax package (Brax's viewer.js) and from
the npm packages the page names, installed at the versions it names into a temporary folder.

    python tests/test_render.py RUN_DIR OUT.png   # a screenshot of a run's page (README figure)
"""

from __future__ import annotations

import base64
import contextlib
import ctypes.util
import glob
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pytest
from train_fixtures import copy_run

from mjx_nclql.tools.render import (
    RenderError,
    body_poses,
    frame_stride,
    main,
    rollout,
    to_html,
)

ROOT = Path(__file__).resolve().parent.parent
EPISODE_LENGTH = 100
ROBOT_PIXELS = 300  # Hopper's tan capsules in an 800x600 view: about 1,300 pixels

# The trained-run, browser and video tests are the heavy tier; the pure parts are quick.
slow = pytest.mark.slow


# ---------------------------------------------------------------------------- the trained run


@pytest.fixture(scope="module")
def run_dir(hopper_run_dir, tmp_path_factory) -> str:
    """A copy of the shared tiny Hopper run (100-step episodes, `log.render`), evaluated after
    its first training chunk (chunk 3) and stopped there with a checkpoint."""
    return copy_run(hopper_run_dir, str(tmp_path_factory.mktemp("render") / "hopper"))


def run_cli(*args: str) -> tuple[int, str, str]:
    """`main(args)` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def printed_episodes(stdout: str) -> list[tuple[float, int]]:
    return [
        (float(r), int(n)) for r, n in re.findall(r"episode \d+: return (-?[\d.]+), length (\d+)", stdout)
    ]


@pytest.fixture(scope="module")
def cli_html(run_dir) -> tuple[str, list[tuple[float, int]]]:
    """`python -m mjx_nclql.render RUN_DIR --episodes 2`: (written page, printed episodes)."""
    code, out, err = run_cli(run_dir, "--episodes", "2")
    assert code == 0, err
    (path,) = re.findall(r"written: (.+)", out)
    return path, printed_episodes(out)


def page_system(page: str) -> dict[str, Any]:
    """The system/trajectory JSON brax's template embeds (zlib, base64)."""
    (b64,) = re.findall(r'var system = "([^"]+)"', page)
    return json.loads(zlib.decompress(base64.b64decode(b64)))


# ---------------------------------------------------------------------------- rollout and the page


@slow
def test_cli_writes_the_page_next_to_the_checkpoints(run_dir, cli_html) -> None:
    path, eps = cli_html
    # The newest checkpoint, chunk 3: 200 post-warm-up transitions (2 warm-up chunks of 200),
    # the step --step takes and the page is named by.
    assert path == os.path.join(run_dir, "rollout-200.html")
    assert len(eps) == 2 and all(1 <= n <= EPISODE_LENGTH for _, n in eps)
    assert not glob.glob(os.path.join(run_dir, ".render-*"))  # no temporary file left behind
    page = Path(path).read_text()
    system = page_system(page)
    assert system["link_names"] == ["torso", "thigh", "leg", "foot"]
    assert math.isclose(system["opt"]["timestep"], 0.008, rel_tol=1e-6)  # env.dt: real time
    frames = system["states"]["x"]
    assert len(frames) == sum(n + 1 for _, n in eps)  # both episodes, reset frame included
    assert all(np.shape(f["pos"]) == (4, 3) and np.shape(f["rot"]) == (4, 4) for f in frames)
    assert "https://cdn.jsdelivr.net/gh/google/brax@v" in page  # brax's CDN viewer


@slow
def test_log_render_writes_a_rollout_page_at_each_evaluation(run_dir) -> None:
    pages = sorted(os.listdir(os.path.join(run_dir, "rollouts")))
    assert pages == ["rollout-3.html"]  # the one evaluation, after chunk 3
    page = Path(run_dir, "rollouts", pages[0]).read_text()
    assert "<title>nclql on hopper, chunk 3, seed 0</title>" in page
    frames = page_system(page)["states"]["x"]
    assert 2 <= len(frames) <= EPISODE_LENGTH + 1  # one episode, reset frame included


@slow
def test_rollout_returns_trimmed_episodes_the_cli_reports(run_dir, cli_html) -> None:
    from mjx_nclql import load

    policy = load(run_dir)
    env = policy.make_env()
    eps = rollout(policy, env, jax.random.PRNGKey(0), episodes=2)
    assert [(round(e.episode_return, 2), e.length) for e in eps] == cli_html[1]  # same key 0
    for ep in eps:
        assert ep.qpos.shape == (ep.length + 1, env.mj_model.nq)
        assert ep.qvel.shape == (ep.length + 1, env.mj_model.nv)
        assert ep.rewards.shape == (ep.length,) and np.isclose(ep.rewards.sum(), ep.episode_return)
        assert ep.terminated or ep.length == EPISODE_LENGTH
        assert not ep.nonfinite and np.all(np.isfinite(ep.qpos))
        assert abs(ep.qpos[0, 1] - 1.25) < 0.01  # frame 0 is the reset pose (rootz ~ 1.25)
    # the page's frames are MuJoCo C's kinematics of those joint positions
    xpos, xquat = body_poses(env.mj_model, eps[0].qpos)
    frames = page_system(to_html(env, eps[0]))["states"]["x"]
    np.testing.assert_allclose(frames[-1]["pos"], xpos[-1, 1:], atol=1e-4)
    np.testing.assert_allclose(frames[-1]["rot"], xquat[-1, 1:], atol=1e-5)
    with pytest.raises(RenderError, match="no frames"):
        to_html(env, [])


@slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["{missing}"], "no such run directory"),
        (["{bare}"], "no checkpoints/ directory"),
        (["{probe}"], "probe task"),
        (["{run}", "--episodes", "0"], "--episodes must be >= 1"),
        (["{run}", "--episodes", "two"], "invalid int value"),
        (["{run}", "--format", "gif"], "unknown format 'gif'"),
        (["{run}", "--step", "999"], "no checkpoint at --step 999"),
        # a chunk index is not a step; the checkpoints: end of warm-up (0) and chunk 3 (200)
        (["{run}", "--step", "3"], "valid --step values (post-warm-up transitions): 0, 200\n"),
        (["{run}", "--seed-index", "3"], "--seed-index 3 out of range"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(run_dir, tmp_path, args, message) -> None:
    bare, probe = tmp_path / "bare", tmp_path / "probe"
    for d in (bare, probe):
        d.mkdir()
    config = (Path(run_dir) / "config.yaml").read_text()
    (bare / "config.yaml").write_text(config)
    (probe / "config.yaml").write_text(config.replace("name: hopper", "name: probe_bandit", 1))
    where = {"missing": tmp_path / "nope", "bare": bare, "probe": probe, "run": run_dir}
    out = tmp_path / "out.html"
    code, stdout, stderr = run_cli(*[a.format(**where) for a in args], "--out", str(out))
    assert code == 2
    assert stderr.startswith("render: ") and message in stderr and stderr.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".render-*")) and "written" not in stdout


# ---------------------------------------------------------------------------- the page in Chromium


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def template_urls() -> list[str]:
    """The CDN URLs brax's viewer template loads (three.js, lil-gui, pako, es-module-shims)."""
    import brax

    text = (Path(brax.__file__).parent / "visualizer" / "index.html").read_text()
    return re.findall(r"https://(?:unpkg\.com|cdn\.jsdelivr\.net/npm)/[^\"' ]+", text)


def npm_packages() -> list[str]:
    """`name@version` of every npm package the template loads from a CDN."""
    pkgs = {re.match(r"https://[^/]+(?:/npm)?/([^@/]+@[^/]+)", u)[1] for u in template_urls()}
    return sorted(pkgs)


@pytest.fixture(scope="module")
def viewer_js(tmp_path_factory) -> Path:
    """node_modules holding the exact npm packages the viewer page loads from CDNs (after
    checking the browser test can run at all)."""
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (drives Chromium)")
    if chromium_path() is None:
        pytest.skip("no Chromium (Debian: apt-get install chromium)")
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm not installed (Debian: apt-get install npm): it fetches the viewer's JS")
    prefix = tmp_path_factory.mktemp("viewer-js")
    proc = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(prefix), *npm_packages()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.skip(f"npm install of the viewer's JS failed (no registry?): {proc.stderr[-300:]}")
    return prefix / "node_modules"


class CdnFromDisk:
    """Playwright route handler: the page at PAGE_URL, and every CDN URL of brax's template from
    local files (Brax's viewer.js from the installed brax, the rest from node_modules). Any
    other request is aborted and recorded: the test page must need nothing else."""

    PAGE_URL = "https://rollout.test/rollout.html"

    def __init__(self, page_html: str, node_modules: Path) -> None:
        import brax

        self.page_html, self.node_modules = page_html, node_modules
        self.brax_dir, self.brax_version = Path(brax.__file__).parent, brax.__version__
        self.served: list[str] = []
        self.refused: list[str] = []

    def local(self, url: str) -> Path | None:
        if m := re.fullmatch(r"https://unpkg\.com/([^@/]+)@([^/]+)/(.+)", url):
            return self._npm(m[1], m[2]) / m[3]
        if m := re.fullmatch(r"https://cdn\.jsdelivr\.net/npm/([^@/]+)@([^/]+)/\+esm", url):
            pkg = self._npm(m[1], m[2])
            return pkg / json.loads((pkg / "package.json").read_text())["module"]
        if m := re.fullmatch(r"https://cdn\.jsdelivr\.net/gh/google/brax@v([^/]+)/brax/(.+)", url):
            assert m[1] == self.brax_version, f"page asks for brax {m[1]}, {self.brax_version} installed"
            return self.brax_dir / m[2]
        if url.endswith("/favicon.ico"):
            return self.brax_dir / "visualizer" / "favicon.ico"
        return None

    def _npm(self, name: str, version: str) -> Path:
        pkg = self.node_modules / name
        assert json.loads((pkg / "package.json").read_text())["version"] == version, url_note(name)
        return pkg

    def __call__(self, route: Any) -> None:
        url = route.request.url
        if url == self.PAGE_URL:
            route.fulfill(body=self.page_html, content_type="text/html")
            return
        path = self.local(url.split("?")[0])
        if path is None or not path.is_file():
            self.refused.append(url)
            route.abort()
            return
        self.served.append(url)
        kind = "image/x-icon" if path.suffix == ".ico" else "application/javascript"
        route.fulfill(
            body=path.read_bytes(), content_type=kind, headers={"Access-Control-Allow-Origin": "*"}
        )  # module scripts need CORS


def url_note(name: str) -> str:
    return f"npm package {name} is not at the version brax's template names"


def screenshot_page(
    page_html: str, node_modules: Path, png: str, *, settle_ms: int = 2500, zoom_steps: int = 0
) -> dict[str, list[str]]:
    """Open the page in headless Chromium (WebGL on SwiftShader), let the animation run, and
    save a screenshot; returns the page's script errors, console errors and request log."""
    from playwright.sync_api import sync_playwright

    cdn = CdnFromDisk(page_html, node_modules)
    errors: list[str] = []
    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(),
            args=["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
        )
        try:
            page = browser.new_page(viewport={"width": 800, "height": 600})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: msg.type == "error" and console.append(msg.text))
            page.route("**/*", cdn)
            page.goto(CdnFromDisk.PAGE_URL, wait_until="load")
            page.wait_for_selector("#brax-viewer canvas", timeout=60_000)
            page.mouse.move(400, 300)
            for _ in range(zoom_steps):  # OrbitControls: the wheel dollies towards the robot
                page.mouse.wheel(0, -100)
                page.wait_for_timeout(50)
            page.mouse.move(5, 595)  # off the robot: hovering paints a body blue
            page.wait_for_timeout(settle_ms)
            page.screenshot(path=png)
        finally:
            browser.close()
    return {"errors": errors, "console": console, "served": cdn.served, "refused": cdn.refused}


def robot_pixels(png: str) -> tuple[int, float]:
    """(pixels of Hopper's tan body, fraction of the most common colour): the viewer's
    background and floor are grey and white, the robot's capsules red > blue."""
    import imageio.v3 as iio

    img = iio.imread(png)[..., :3].astype(int)
    tan = (img[..., 0] - img[..., 2] > 25) & (img[..., 0] >= img[..., 1])
    _, counts = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
    return int(tan.sum()), float(counts.max() / counts.sum())


@slow
def test_page_renders_the_robot_in_headless_chromium(viewer_js, cli_html, tmp_path) -> None:
    png = str(tmp_path / "page.png")
    log = screenshot_page(Path(cli_html[0]).read_text(), viewer_js, png)
    assert log["errors"] == [] and log["console"] == [], log
    assert log["refused"] == [], f"the page asked for unexpected URLs: {log['refused']}"
    assert any(u.endswith("/viewer.js") for u in log["served"])
    assert any("three.module.js" in u for u in log["served"])
    tan, most_common = robot_pixels(png)
    assert tan > ROBOT_PIXELS, f"only {tan} robot-coloured pixels in {png}"
    assert most_common < 0.9, f"the page is {most_common:.0%} one colour: blank?"


# ---------------------------------------------------------------------------- MP4


def cli_subprocess(args: list[str], mujoco_gl: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process (MUJOCO_GL is read when mujoco is first imported), without
    a display."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "PYOPENGL_PLATFORM")
    }
    env.update(MUJOCO_GL=mujoco_gl, **extra)
    return subprocess.run(
        [sys.executable, "-m", "mjx_nclql.render", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@slow
@pytest.mark.filterwarnings("ignore:os.fork")  # the subprocess: fork, then exec at once
def test_mp4_with_osmesa(run_dir, cli_html, tmp_path) -> None:
    if ctypes.util.find_library("OSMesa") is None:
        pytest.skip("no OSMesa library (Debian: apt-get install libosmesa6) for MUJOCO_GL=osmesa")
    import imageio.v2 as imageio

    out = tmp_path / "hopper.mp4"
    proc = cli_subprocess([run_dir, "--format", "mp4", "--episodes", "2", "--out", str(out)], "osmesa")
    assert proc.returncode == 0, proc.stderr
    assert f"written: {out}" in proc.stdout
    eps = printed_episodes(proc.stdout)
    assert eps == cli_html[1]  # the same two episodes as the page (key 0)
    data = out.read_bytes()
    assert data[4:8] == b"ftyp"  # an ISO-BMFF (MP4) file
    stride = frame_stride(0.008, 60.0)
    reader = imageio.get_reader(str(out))
    try:
        assert reader.count_frames() == math.ceil(sum(n + 1 for _, n in eps) / stride)
        meta = reader.get_meta_data()
        assert meta["size"] == (640, 480) and meta["codec"] == "h264"
        assert math.isclose(meta["fps"], 1 / (0.008 * stride), rel_tol=1e-2)
        frame = reader.get_data(0)
    finally:
        reader.close()
    assert frame.std() > 10  # a picture, not a blank frame
    assert not list(tmp_path.glob(".render-*"))


@slow
@pytest.mark.filterwarnings("ignore:os.fork")  # the subprocess: fork, then exec at once
@pytest.mark.parametrize("no_glfw_library", [False, True], ids=["no-display", "no-library"])
def test_mp4_without_an_opengl_backend_fails_clearly(run_dir, tmp_path, no_glfw_library) -> None:
    """GLFW without a display (the context cannot be made), or without its library (mujoco
    has no Renderer at all): one line, exit 2, the variable to set, nothing written. (EGL is
    no reliable failure: Mesa's EGL renders on a CPU through llvmpipe.)"""
    out = tmp_path / "never.mp4"
    extra = {"PYGLFW_LIBRARY": str(tmp_path / "missing-libglfw.so")} if no_glfw_library else {}
    proc = cli_subprocess([run_dir, "--format", "mp4", "--out", str(out)], "glfw", **extra)
    assert proc.returncode == 2, proc.stderr
    (last,) = proc.stderr.strip().splitlines()[-1:]
    start = (
        "render: MuJoCo has no OpenGL backend (MUJOCO_GL=glfw"
        if no_glfw_library
        else "render: cannot create an OpenGL context with MUJOCO_GL=glfw"
    )
    assert last.startswith(start), proc.stderr
    assert "MUJOCO_GL=egl" in last and "MUJOCO_GL=osmesa" in last and "libosmesa6" in last
    assert "--format html" in last
    assert "episode 0" not in proc.stdout  # it failed before the rollout
    assert not out.exists() and not list(tmp_path.glob(".render-*"))


def test_video_frame_stride_keeps_real_time_at_most_60_fps() -> None:
    assert frame_stride(0.008, 60.0) == 3  # Hopper, Walker2d: 41.7 fps
    assert frame_stride(0.015, 60.0) == 2  # Humanoid: 33.3 fps
    assert frame_stride(0.04, 60.0) == frame_stride(0.05, 60.0) == 1  # Swimmer, HalfCheetah, Ant
    assert frame_stride(1 / 60, 60.0) == 1


# ---------------------------------------------------------------------------- README figure


def _figure(run: str, png: str) -> None:
    """Render RUN's newest checkpoint to a page and screenshot it (docs/figures/render_hopper.png)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "rollout.html")
        code, out, err = run_cli(run, "--out", page)
        print(out + err)
        if code:
            raise SystemExit(code)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", tmp, *npm_packages()],
            check=True,
            capture_output=True,
        )
        log = screenshot_page(
            Path(page).read_text(), Path(tmp) / "node_modules", png, settle_ms=1500, zoom_steps=18
        )
        print(json.dumps({k: log[k] for k in ("errors", "console", "refused")}), robot_pixels(png))


if __name__ == "__main__":
    _figure(*sys.argv[1:3])


@pytest.mark.filterwarnings("ignore:os.fork")  # the subprocess: fork, then exec at once
def test_an_invalid_mujoco_gl_is_one_line_not_a_traceback(tmp_path) -> None:
    """MuJoCo itself refuses to import with an unknown MUJOCO_GL: the CLI still answers in one
    line (the package does not import MuJoCo before the CLI can catch it)."""
    proc = cli_subprocess([str(tmp_path), "--format", "mp4"], "bogus")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("render: cannot import MuJoCo with MUJOCO_GL=bogus")
    assert "MUJOCO_GL=osmesa" in proc.stderr and "--format html" in proc.stderr
