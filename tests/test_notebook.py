"""The Colab notebook runs top to bottom (on the CPU, at toy sizes), so it cannot rot."""

from __future__ import annotations

import json
import os

import pytest
from train_fixtures import ROOT

NOTEBOOK = os.path.join(ROOT, "notebooks", "colab.ipynb")

TINY = [
    "env.options.episode_length=30", "train.num_envs=4", "train.warmup_steps=64",
    "train.batch_size=32", "train.chunk_iters=8", "train.eval_every=32", "train.eval_episodes=2",
    "train.checkpoint_every=64", "algo.critic.hidden_sizes=[16,16]", "algo.sampler.num_levels=3",
    "algo.sampler.steps_per_level=1", "log.progress=false",
]


@pytest.mark.slow
def test_colab_notebook_runs_top_to_bottom(tmp_path) -> None:
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        NOTEBOOK, str(out), cwd=str(tmp_path), kernel_name="python3", progress_bar=False,
        parameters={"TASK": "hopper", "PRESET": "smoke", "TOTAL_STEPS": 64, "OVERRIDES": TINY,
                    "RUN_DIR": str(tmp_path / "run"), "INSTALL": False},
    )
    cells = json.loads(out.read_text())["cells"]
    text = "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
    )
    assert "backend 'cpu'" in text and "No GPU or TPU found" in text  # says so plainly
    assert "finished ->" in text and "final evaluation return" in text
    assert "episode return" in text
    html = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]
    assert html and "<html" in "".join(html[-1]["data"]["text/html"]).lower()
    images = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the learning-curve plot"
    assert (tmp_path / "run" / "metrics.jsonl").is_file()
