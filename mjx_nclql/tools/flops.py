"""Matrix-multiply work of a program (the rate the machine reaches is timed in `measure.py`).

The update is compute-bound in its matrix products (the Langevin chains over the twin
critics), so the fraction of the machine's matmul peak that training reaches says how much
speed is left, in a figure that carries across machines (both are measured in the same run).

XLA's own cost analysis counts a loop body once, however often it runs; `matmul_flops`
therefore walks the jaxpr instead: every `dot_general` costs 2 x (lhs elements) x (rhs
elements outside the contraction and batch dimensions), a `scan` multiplies its body by its
length, a `cond` costs its dearest branch, and a `while` (no static trip count) counts its
body once and is reported as such, so a count that contains one says it is a lower bound.
Elementwise work (activations, the optimiser) is left out: it is small beside the products
and the peak is a product rate.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any


@dataclasses.dataclass(frozen=True)
class MatmulCount:
    """Floating-point operations of the matrix products a program runs."""

    flops: float
    while_loops: int  # while loops met: each body was counted once (a lower bound then)

    @property
    def exact(self) -> bool:
        return self.while_loops == 0


def matmul_flops(fn: Callable[..., Any], *args: Any) -> MatmulCount:
    """The matrix-product FLOPs of one call `fn(*args)` (traced, not run)."""
    import jax

    closed = jax.make_jaxpr(fn)(*args)
    return _count(closed.jaxpr)


def _count(jaxpr: Any) -> MatmulCount:
    flops, whiles = 0.0, 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            flops += _dot_flops(eqn)
            continue
        subs = [_count(j) for j in _sub_jaxprs(eqn.params)]
        if not subs:
            continue
        if name == "cond":
            dearest = max(subs, key=lambda c: c.flops)
            flops += dearest.flops
            whiles += dearest.while_loops
            continue
        times = eqn.params["length"] if name == "scan" else 1
        whiles += (name == "while") + sum(c.while_loops for c in subs)
        flops += times * sum(c.flops for c in subs)
    return MatmulCount(flops, whiles)


def _dot_flops(eqn: Any) -> float:
    lhs, rhs = (v.aval.shape for v in eqn.invars[:2])
    (_, rhs_contract), (_, rhs_batch) = eqn.params["dimension_numbers"]
    rhs_free = [d for i, d in enumerate(rhs) if i not in (*rhs_contract, *rhs_batch)]
    return 2.0 * math.prod(lhs) * math.prod(rhs_free)


def _sub_jaxprs(params: dict[str, Any]) -> Iterator[Any]:
    """The jaxprs inside an equation's parameters (scan/while bodies, cond branches, calls)."""
    for value in params.values():
        for item in value if isinstance(value, tuple | list) else (value,):
            if hasattr(item, "eqns"):
                yield item
            elif hasattr(item, "jaxpr") and hasattr(item.jaxpr, "eqns"):
                yield item.jaxpr
