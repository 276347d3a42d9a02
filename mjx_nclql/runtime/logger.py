"""Run outputs: metrics JSONL, learning-curve PNG, rollout pages and (offline by default) wandb.

The run directory's layout (`run_dir.py`) names the files; the logger only writes where it is
told.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from mjx_nclql.core.files import atomic_path, write_text


def _plain(value: Any) -> Any:
    """JSON-safe scalars/lists (NaN -> null) from numpy/jax values."""
    arr = np.asarray(value)
    if arr.ndim == 0:
        x = arr.item()
        return None if isinstance(x, float) and not math.isfinite(x) else x
    return [_plain(v) for v in arr]


class MetricsLogger:
    """Appends one JSON object per record to `metrics_path`; mirrors records to wandb, which
    keeps its files in `run_dir`; the curve goes to `curve_path`, pages into `pages_dir`.

    `enabled=False` (every process but the first of a multi-host run) writes nothing.
    """

    def __init__(
        self,
        run_dir: str,
        config: dict,
        *,
        metrics_path: str,
        curve_path: str,
        pages_dir: str,
        wandb_mode: str,
        project: str,
        entity: str | None,
        plot: bool,
        resume: bool,
        enabled: bool = True,
    ) -> None:
        self.run_dir = run_dir
        self.path = metrics_path
        self.plot_path = curve_path
        self.pages_dir = pages_dir
        self.enabled = enabled
        self.plot = plot and enabled
        self._wandb = None
        if wandb_mode != "disabled" and enabled:
            import wandb

            self._wandb = wandb.init(
                project=project,
                entity=entity,
                mode=wandb_mode,
                dir=run_dir,
                config=config,
                name=os.path.basename(os.path.abspath(run_dir)),
                resume="allow" if resume else None,
                id=self._run_id(run_dir),
                reinit="finish_previous",
            )

    @staticmethod
    def _run_id(run_dir: str) -> str:
        name = os.path.basename(os.path.abspath(run_dir))
        return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:64]

    def log(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        clean = {k: _plain(v) for k, v in record.items()}
        with open(self.path, "a") as f:
            f.write(json.dumps(clean) + "\n")
        if self._wandb is not None:
            flat = {}
            for k, v in clean.items():
                if isinstance(v, list):
                    finite = [x for x in v if x is not None]
                    if finite:
                        flat[k] = float(np.mean(finite))
                elif v is not None and not isinstance(v, str):
                    flat[k] = v
            self._wandb.log(flat, step=int(clean.get("env_steps", 0)))

    def log_page(self, name: str, html: str) -> str:
        """Write an HTML page (a rollout) into the pages directory atomically and show it in
        wandb; returns its path."""
        os.makedirs(self.pages_dir, exist_ok=True)
        path = os.path.join(self.pages_dir, name)
        write_text(path, html)
        if self._wandb is not None:
            import wandb

            self._wandb.log({"rollout": wandb.Html(html, inject=False, data_is_not_path=True)})
        return path

    def records(self) -> list[dict[str, Any]]:
        if not self.enabled or not os.path.exists(self.path):
            return []
        with open(self.path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def plot_curve(self, title: str) -> None:
        """Evaluation return per seed (and mean) against environment steps."""
        if not self.plot:
            return
        evals = [r for r in self.records() if r.get("kind") == "eval"]
        if not evals:
            return
        # A bare Figure draws with Agg without touching pyplot's global backend (a notebook
        # that trains in-process keeps its inline plots).
        from matplotlib.figure import Figure

        # The paper's x-axis: transitions after warm-up (older runs logged env_steps only).
        steps = np.array([r.get("post_warmup_steps", r["env_steps"]) for r in evals])
        per_seed = np.array([r["eval_return_mean"] for r in evals], dtype=float)
        fig = Figure(figsize=(6, 4))
        ax = fig.add_subplot()
        for s in range(per_seed.shape[1]):
            ax.plot(steps, per_seed[:, s], alpha=0.35, lw=1)
        ax.plot(steps, per_seed.mean(1), color="k", lw=2, label="mean over seeds")
        ax.set_xlabel("environment steps after warm-up (per seed)")
        ax.set_ylabel("evaluation return")
        ax.set_title(title)
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        with atomic_path(self.plot_path, ".png") as tmp:
            fig.savefig(tmp, dpi=100)

    def close(self) -> None:
        if self._wandb is not None:
            self._wandb.finish()
