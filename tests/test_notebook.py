"""The Colab notebook runs top to bottom as a Colab user runs it: its install cell installs the
project (non-editable, with pip) into an environment that has the dependencies but not the
project, then it trains, plots and shows a rollout (on the CPU, at toy sizes).

The environment stands in for a Colab runtime: a fresh virtualenv that sees this test
environment's packages (jax, MuJoCo, ...) except the project itself, and a Jupyter kernel of
its own. The local checkout stands in for the repository's URL, so a file missing from the
package fails here.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest
from train_fixtures import ROOT

NOTEBOOK = os.path.join(ROOT, "notebooks", "colab.ipynb")

TINY = [
    "env.options.episode_length=30",
    "train.num_envs=4",
    "train.warmup_steps=64",
    "train.batch_size=32",
    "train.chunk_iters=8",
    "train.eval_every=32",
    "train.eval_episodes=2",
    "train.checkpoint_every=64",
    "algo.critic.hidden_sizes=[16,16]",
    "algo.sampler.num_levels=3",
    "algo.sampler.steps_per_level=1",
    "log.progress=false",
]


def _colab_like_kernel(tmp: pathlib.Path) -> tuple[str, pathlib.Path]:
    """A kernel in a fresh venv that sees every installed package but this project's own."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies: links to this environment's packages, minus the project (its editable
    # finder and metadata), so pip sees jax & co. installed and mjx_nclql not.
    deps = tmp / "deps"
    deps.mkdir()
    ours = pathlib.Path(sysconfig.get_path("purelib"))
    for entry in ours.iterdir():
        if entry.name.startswith(("mjx_nclql", "__editable__", "envs")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    (pathlib.Path(site) / "colab_runtime.pth").write_text(f"{deps}\n")
    kernels = tmp / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "colab stand-in",
                "language": "python",
            }
        )
    )
    return "colab", pathlib.Path(site)


@pytest.mark.slow
def test_colab_notebook_installs_and_runs_top_to_bottom(tmp_path, monkeypatch) -> None:
    papermill = pytest.importorskip("papermill")
    kernel, site = _colab_like_kernel(tmp_path)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    workdir = tmp_path / "content"  # Colab's working directory: no checkout in sight
    workdir.mkdir()
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        NOTEBOOK,
        str(out),
        cwd=str(workdir),
        kernel_name=kernel,
        progress_bar=False,
        parameters={
            "TASK": "hopper",
            "PRESET": "smoke",
            "TOTAL_STEPS": 64,
            "OVERRIDES": TINY,
            "INSTALL_FROM": ROOT,
        },
    )
    cells = json.loads(out.read_text())["cells"]
    text = "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for c in cells
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
    )
    assert "hardware: cpu" in text and "pip install 'mjx_nclql @ file://" in text
    assert f"mjx_nclql from {site}" in text  # the installed copy, not the checkout
    assert (site / "mjx_nclql" / "configs" / "config.yaml").is_file()
    assert "backend 'cpu'" in text and "No GPU or TPU found" in text  # says so plainly
    assert "finished ->" in text and "final evaluation return" in text
    assert "episode return" in text
    html = [
        o
        for c in cells
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "text/html" in o.get("data", {})
    ]
    assert html and "<html" in "".join(html[-1]["data"]["text/html"]).lower()
    images = [
        o
        for c in cells
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert images, "the learning-curve plot"
    (run_dir,) = (workdir / "runs").iterdir()  # a fresh name, under the working directory
    assert (run_dir / "metrics.jsonl").is_file()
    # Run again on that directory: it is continued, not deleted (the run is finished: reloaded).
    before = (run_dir / "metrics.jsonl").read_text()
    again = tmp_path / "again.ipynb"
    papermill.execute_notebook(
        NOTEBOOK,
        str(again),
        cwd=str(workdir),
        kernel_name=kernel,
        progress_bar=False,
        parameters={
            "TASK": "hopper",
            "PRESET": "smoke",
            "TOTAL_STEPS": 64,
            "OVERRIDES": TINY,
            "INSTALL_FROM": ROOT,
            "RUN_DIR": str(run_dir),
        },
    )
    again_text = again.read_text()
    assert "already holds a run: continuing it" in again_text
    assert "mjx_nclql is already installed" in again_text
    assert (run_dir / "metrics.jsonl").read_text().startswith(before)
