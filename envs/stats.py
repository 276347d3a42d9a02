"""Statistics of a set of episodes, the one definition `evaluate` and `fidelity` share.

Returns are compared across simulators (MJX against Gymnasium), so both sides must summarise
episodes the same way: sample standard deviation (ddof 1, 0 for one episode), standard error
of the mean, and a difference in units of its standard error (independent episodes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _std(x: np.ndarray) -> float:
    return float(x.std(ddof=1)) if x.size > 1 else 0.0


def mean_and_stderr(x: Any) -> tuple[float, float]:
    """Mean of a per-episode quantity and its standard error, in float64."""
    x = np.asarray(x, np.float64)
    return float(x.mean()), _std(x) / math.sqrt(x.size)


def episode_statistics(returns: Any, lengths: Any, nonfinite: Any) -> dict[str, float | int]:
    """Count, return mean/std/standard error, length mean/standard error, and how many
    episodes went non-finite. Returns are summarised in float64; lengths in the dtype given
    (pass float64 for float64 length statistics)."""
    r = np.asarray(returns, np.float64)
    n = np.asarray(lengths)
    return_mean, return_stderr = mean_and_stderr(r)
    return {
        "episodes": int(r.size),
        "return_mean": return_mean,
        "return_std": _std(r),
        "return_stderr": return_stderr,
        "length_mean": float(n.mean()),
        "length_stderr": _std(n) / math.sqrt(n.size),
        "nonfinite": int(np.sum(nonfinite)),
    }


def difference(mean_a: float, stderr_a: float, mean_b: float, stderr_b: float) -> dict[str, float]:
    """a minus b, the standard error of that difference, and the difference in units of it."""
    se = math.hypot(stderr_a, stderr_b)
    diff = mean_a - mean_b
    return {"mean": diff, "stderr": se, "z": diff / se if se > 0 else 0.0}
