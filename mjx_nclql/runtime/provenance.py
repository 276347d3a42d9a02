"""What produced a run: source commit, package versions, Python and device, in RUN_DIR/provenance.json.

A result is only comparable with another when both say which code, which library versions and
which accelerator made them, so every start of a run records them:

    {"starts": [{"started_at": ..., "resumed": false, "commit": "<sha>" | "unknown",
                 "dirty": true | false | null, "python": "3.12.3",
                 "packages": {"jax": ..., "jaxlib": ..., "mujoco": ..., "mujoco-mjx": ...,
                              "flax": ..., "optax": ..., "mjx_nclql": ...},
                 "device": {"backend": "gpu", "kind": "NVIDIA H200", "count": 1,
                            "process_count": 1}}, ...]}

The first entry is the run's own start; each resume appends one (a resumed run may continue on
other code or hardware, and both stay on record). `commit` is the source tree's HEAD when the
package is imported from a git checkout that tracks it, else "unknown" (an installed wheel, a
copy, no git): gathering never fails a run. `dirty` says whether tracked files differ from it.
The file is written atomically; in a multi-host run only process 0 writes it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from typing import Any

from mjx_nclql.core.files import write_text

PROVENANCE_FILE = "provenance.json"
UNKNOWN = "unknown"
PACKAGES = ("jax", "jaxlib", "mujoco", "mujoco-mjx", "flax", "optax", "mjx_nclql")
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package's root


def _git(source_dir: str, *args: str) -> str | None:
    """stdout of `git -C source_dir args`, or None when git is missing or fails."""
    try:
        proc = subprocess.run(
            ["git", "-C", source_dir, *args],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_state(source_dir: str = SOURCE_DIR) -> tuple[str, bool | None]:
    """(HEAD commit, tracked files modified) of the checkout holding `source_dir`, or
    ("unknown", None) when `source_dir` is not tracked by one (e.g. a wheel installed in a
    virtualenv that happens to sit inside a checkout)."""
    commit = (_git(source_dir, "rev-parse", "--verify", "HEAD") or "").strip()
    tracked = _git(source_dir, "ls-files", "--", ".")
    if not commit or not tracked or not tracked.strip():
        return UNKNOWN, None
    status = _git(source_dir, "status", "--porcelain", "--untracked-files=no")
    return commit, None if status is None else bool(status.strip())


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed distribution versions, "unknown" for one that is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = UNKNOWN
    return out


def device_info() -> dict[str, Any]:
    """JAX's backend, the first device's kind, and device/process counts (all hosts)."""
    import jax

    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "kind": devices[0].device_kind,
        "count": len(devices),
        "process_count": jax.process_count(),
    }


def gather(source_dir: str = SOURCE_DIR, *, resumed: bool = False, device: bool = True) -> dict[str, Any]:
    """One start's record; `device=False` leaves out the device (and does not import jax)."""
    commit, dirty = git_state(source_dir)
    entry: dict[str, Any] = {
        "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "resumed": resumed,
        "commit": commit,
        "dirty": dirty,
        "python": platform.python_version(),
        "packages": package_versions(),
    }
    if device:
        entry["device"] = device_info()
    return entry


def read(run_dir: str) -> list[dict[str, Any]]:
    """The recorded starts of a run, oldest first; [] when it has no (readable) file: runs
    from before provenance was recorded."""
    path = os.path.join(run_dir, PROVENANCE_FILE)
    try:
        with open(path) as f:
            starts = json.load(f).get("starts", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [s for s in starts if isinstance(s, dict)]


def record(run_dir: str, *, resumed: bool, source_dir: str = SOURCE_DIR) -> dict[str, Any]:
    """Append this start to RUN_DIR/provenance.json (created on the first); returns the entry."""
    entry = gather(source_dir, resumed=resumed)
    starts = read(run_dir) + [entry]
    write_text(os.path.join(run_dir, PROVENANCE_FILE), json.dumps({"starts": starts}, indent=1) + "\n")
    return entry


def summary(starts: list[dict[str, Any]]) -> dict[str, str]:
    """Short strings for a table: commit (12 characters, "-dirty" when modified), jax and
    mujoco versions, device ("NVIDIA H200 x1 (gpu)"); values that changed over resumes are
    joined with " → "; "unknown" where nothing was recorded."""

    def commit(s: dict[str, Any]) -> str:
        c = str(s.get("commit") or UNKNOWN)
        return c if c == UNKNOWN else c[:12] + ("-dirty" if s.get("dirty") else "")

    def device(s: dict[str, Any]) -> str:
        d = s.get("device") or {}
        if not d.get("kind"):
            return UNKNOWN
        return f"{d['kind']} x{d.get('count', '?')} ({d.get('backend', '?')})"

    fields = {
        "commit": commit,
        "jax": lambda s: str((s.get("packages") or {}).get("jax") or UNKNOWN),
        "mujoco": lambda s: str((s.get("packages") or {}).get("mujoco") or UNKNOWN),
        "device": device,
    }
    out = {}
    for name, get in fields.items():
        values: list[str] = []
        for s in starts:
            if (v := get(s)) not in values:
                values.append(v)
        out[name] = " → ".join(values) or UNKNOWN
    return out
