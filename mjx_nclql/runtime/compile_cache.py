"""JAX's persistent compilation cache, so a second start of the same program skips XLA.

A training start compiles for 1-4 minutes on a CPU and tens of seconds on a GPU; the
compiled programs depend only on the configuration's shapes and the software versions, so
JAX can keep them on disk and a later run (a resume, the next seed, an evaluation) loads
them instead. `RunConfig.compile_cache` names the directory; `compile_cache=null` turns
the cache off. `$MJX_NCLQL_COMPILE_CACHE`, when set, names the directory for every process
instead of the config (a test suite or CI gives all its runs, subprocesses included, one
cache of its own that way).
"""

from __future__ import annotations

import os

import jax

ENV_VAR = "MJX_NCLQL_COMPILE_CACHE"


def enable(directory: str | None) -> str | None:
    """Point JAX's persistent cache at `directory` (created if needed); None leaves it off.
    `$MJX_NCLQL_COMPILE_CACHE` takes precedence over `directory` when set.

    Call before the first compilation of the process: JAX reads the setting when it first
    compiles. Returns the absolute directory in use, or None.
    """
    directory = os.environ.get(ENV_VAR) or directory
    if not directory:
        return None
    path = os.path.abspath(os.path.expanduser(directory))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:  # a read-only home, say: run without the cache rather than fail
        print(f"compile cache disabled: cannot create {path} ({err.strerror})", flush=True)
        return None
    jax.config.update("jax_compilation_cache_dir", path)
    # Every program, however quick to compile: a second start then compiles nothing at all.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return path


def entries(directory: str) -> int:
    """Programs stored in a cache directory (for reports and tests)."""
    path = os.path.abspath(os.path.expanduser(directory))
    if not os.path.isdir(path):
        return 0
    return sum(1 for name in os.listdir(path) if not name.startswith("."))
