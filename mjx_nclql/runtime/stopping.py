"""Stopping a run cleanly: SIGINT/SIGTERM end it at the next chunk boundary, checkpointed.

A chunk is one XLA program that Python cannot interrupt, and on the CPU `paper` preset it
runs for minutes; so the first signal is answered at once with when the stop will happen,
and a second one stops at once. Stopping at once is safe: orbax commits a checkpoint by
renaming a finished directory, so the last committed one stays valid.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from typing import Any

import jax


class StopFlag:
    """Context manager that records the first SIGINT/SIGTERM in `signal` (and restores the
    previous handlers on exit); a second signal raises KeyboardInterrupt."""

    def __init__(self, announce: bool = True) -> None:
        self.signal: int | None = None
        self.chunk_seconds: float | None = None  # the latest chunk's time, for the message
        self.announce = announce
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: no handlers
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal is not None:  # second signal: give up immediately
            raise KeyboardInterrupt
        self.signal = signum
        if self.announce:
            when = f" (about {self.chunk_seconds:.0f} s)" if self.chunk_seconds else ""
            print(
                f"\n{signal.Signals(signum).name} received: stopping after the current chunk"
                f"{when} with a checkpoint; send it again to stop now (the last checkpoint "
                "stays valid)",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def wait_ready(tree: Any) -> None:
    """Block until a dispatched chunk is done, returning to Python often so that a signal
    handler runs at once (inside XLA's own wait it would run only when the chunk ends)."""
    leaves = [x for x in jax.tree.leaves(tree) if isinstance(x, jax.Array)]
    while not all(x.is_ready() for x in leaves):
        time.sleep(0.05)
