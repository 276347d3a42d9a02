"""The built wheel, installed outside the checkout, trains from any directory.

Editable installs read `configs/` and the task XMLs from the checkout, so they cannot show a
file missing from the wheel; this test builds the wheel, installs it (non-editable, no
dependencies: they come from the test's environment) into a directory of its own, and runs
the commands from an unrelated working directory with only that directory on the path.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import zipfile

import pytest
from train_fixtures import ROOT, read_records

pytestmark = pytest.mark.slow

TASKS = ("ant", "halfcheetah", "hopper", "humanoid", "swimmer", "walker2d")


def _sh(
    cmd: list[str], cwd: pathlib.Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (cmd, proc.stdout[-2000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path, dict[str, str]]:
    """(wheel, install directory, environment whose path holds only the installed copy)."""
    tmp = tmp_path_factory.mktemp("wheel")
    _sh([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), ROOT], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("mjx_nclql-*.whl")
    target = tmp / "site"
    _sh(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        cwd=tmp,
    )
    env = dict(os.environ, PYTHONPATH=str(target), WANDB_SILENT="true")
    return wheel, target, env


def _checkout_files(folder: str, suffixes: tuple[str, ...]) -> set[str]:
    out = set()
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, folder)):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if name.endswith(suffixes):
                out.add(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return out


def test_wheel_holds_every_module_config_and_asset(installed) -> None:
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _checkout_files("mjx_nclql", (".py",)) | _checkout_files("envs", (".py", ".xml"))
    assert expected - names == set(), "missing from the wheel"
    configs = {os.path.join("mjx_nclql", p) for p in _checkout_files("configs", (".yaml",))}
    assert len(configs) >= 12 and configs - names == set(), "configs missing from the wheel"


def test_installed_wheel_composes_and_trains_from_another_directory(installed, tmp_path) -> None:
    _, target, env = installed
    where = _sh(
        [sys.executable, "-c", "import envs, mjx_nclql; print(mjx_nclql.__file__); print(envs.__file__)"],
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert all(path.startswith(str(target)) for path in where), where  # not the checkout
    for task in TASKS:
        job = _sh(
            [sys.executable, "-m", "mjx_nclql.train", f"env={task}", "--cfg", "job"],
            cwd=tmp_path,
            env=env,
            timeout=120,
        ).stdout
        assert f"name: {task}" in job, job[-1000:]
    composed = _sh(
        [
            sys.executable,
            "-c",
            "import mjx_nclql; cfg = mjx_nclql.compose(["
            "'env=walker2d', 'algo=lql', 'preset=fast']); "
            "print(cfg.env.name, cfg.algo.variant, cfg.train.num_envs)",
        ],
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert composed == ["walker2d", "lql", "1024"]
    run_dir = tmp_path / "probe-run"
    _sh(
        [
            sys.executable,
            "-m",
            "mjx_nclql.train",
            "preset=smoke",
            "env.name=probe_two_step",
            "train.num_envs=4",
            "train.total_steps=80",
            "train.warmup_steps=40",
            "train.chunk_iters=10",
            "train.eval_every=40",
            "train.eval_episodes=2",
            "train.batch_size=16",
            "algo.critic.hidden_sizes=[8]",
            "algo.sampler.num_levels=2",
            "algo.sampler.steps_per_level=1",
            "log.wandb_mode=disabled",
            "log.progress=false",
            f"run_dir={run_dir}",
        ],
        cwd=tmp_path,
        env=env,
    )
    evals = [r for r in read_records(str(run_dir)) if r["kind"] == "eval"]
    assert [r["post_warmup_steps"] for r in evals] == [40, 80]
    assert (run_dir / "config.yaml").is_file() and (run_dir / "checkpoints").is_dir()
    assert not (tmp_path / "outputs").exists()  # Hydra writes nothing of its own
