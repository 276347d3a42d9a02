"""Matrix-multiply work of a program, and the rate this machine reaches on matrix multiplies.

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
import time
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


def matmul_peak_gflops(size: int | None = None, repeats: int = 5) -> float:
    """The best rate (GFLOP/s) of one `size` x `size` float32 product on the default device,
    at the default precision (the critics' dtype and precision); 2048 on a CPU, 8192 on an
    accelerator, where smaller products do not fill it."""
    import jax
    import jax.numpy as jnp

    if size is None:
        size = 2048 if jax.default_backend() == "cpu" else 8192
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (size, size), jnp.float32)
    product = jax.jit(jnp.matmul)
    jax.block_until_ready(product(a, b))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(product(a, b))
        best = min(best, time.perf_counter() - t)
    return 2.0 * size**3 / best / 1e9


def sample_matmul_rate(duration_s: float, every_s: float = 5.0, size: int | None = None
                       ) -> list[tuple[float, float]]:
    """`matmul_peak_gflops` again and again for `duration_s`: [(seconds since start, GFLOP/s)].
    How steady the machine is: on a shared host the rate moves by tens of percent from one
    sample to the next, and every speed figure moves with it."""
    samples: list[tuple[float, float]] = []
    start = time.perf_counter()
    while True:
        samples.append((time.perf_counter() - start, matmul_peak_gflops(size)))
        if time.perf_counter() - start + every_s >= duration_s:
            return samples
        time.sleep(every_s)
