"""Atomic file writes: a file a run or a command writes is either whole or absent.

Every output (config, metrics after a resume, eval.json, reports, rollout pages, figures,
videos, benchmark reports) is written under a temporary name in the same directory and
renamed onto its path, so an interruption never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def atomic_path(path: str, suffix: str | None = None) -> Iterator[str]:
    """A temporary name next to `path`, renamed onto it only if the block succeeds (else
    removed). `suffix` (default: `path`'s extension) keeps the extension writers that pick a
    format from the name (matplotlib, ffmpeg) need."""
    directory = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}-", suffix=suffix, dir=directory)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the output is an ordinary file
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path: str, text: str) -> None:
    """Write `text` to `path` atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)
