"""The numerics are pinned: the shared probe run (`train_fixtures.probe_config`, 2 seeds, CPU)
ends with exactly the critic parameters recorded in `golden_params.txt`.

A refactoring must not change a single bit of them. A change of the numerics on purpose (the
sampler, the losses, a default) changes them too: regenerate the file then, on a CPU, with

    python tests/test_golden_params.py

which trains the probe run once and rewrites the line of the installed jax version. The digest
depends on XLA's CPU code, so each jax version has its own line; one without a line is skipped.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from typing import Any

import jax
import numpy as np
import pytest

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_params.txt")


def digest(tree: Any) -> str:
    """sha256 over every leaf's tree path, dtype, shape and bytes."""
    h = hashlib.sha256()
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        a = np.asarray(leaf)
        h.update(jax.tree_util.keystr(path).encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def read_golden() -> dict[str, dict[str, str]]:
    """jax version -> {"params": digest, "targets": digest}."""
    out = {}
    with open(GOLDEN) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                fields = dict(item.split("=", 1) for item in line.split())
                out[fields.pop("jax")] = fields
    return out


def test_probe_run_parameters_match_the_golden_digests(reference) -> None:
    if jax.default_backend() != "cpu":
        pytest.skip("the golden digests are of the CPU backend")
    golden = read_golden().get(jax.__version__)
    if golden is None:
        pytest.skip(f"no golden digest for jax {jax.__version__}; add one: python {__file__}")
    state = reference.state.agent
    assert {"params": digest(state.params), "targets": digest(state.target_params)} == golden


def regenerate() -> None:
    """Train the probe run on the CPU and write this jax version's line."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    from train_fixtures import reference_run

    result, _ = reference_run(tempfile.mkdtemp())
    state = result.state.agent
    line = f"jax={jax.__version__} params={digest(state.params)} targets={digest(state.target_params)}"
    with open(GOLDEN) as f:
        kept = [ln for ln in f if not ln.startswith(f"jax={jax.__version__} ")]
    with open(GOLDEN, "w") as f:
        f.writelines(kept + [line + "\n"])
    print(line)


if __name__ == "__main__":
    sys.exit(regenerate())
