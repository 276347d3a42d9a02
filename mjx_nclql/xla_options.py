"""XLA compiler options for this project's programs, and `jit` that applies them.

On the CPU, XLA hands matrix products to YNNPACK. By default it may fuse a run of products and
the elementwise work between them into one YNNPACK subgraph; for the critic's layers (256-wide
matmuls between Mish activations) that subgraph runs slower than the products issued one by
one, with the activations as XLA's own loops (docs/benchmarks.md has the measurements). The
results are unchanged: only which library runs each product changes.

The option is applied per program (through `jit`) rather than through `XLA_FLAGS`, so it
touches nothing else in the process; where the installed jaxlib does not know it, or the
backend is not a CPU, no option is passed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax

# Each matrix product its own YNNPACK call (no multi-product subgraphs).
CPU_OPTIONS: dict[str, str] = {
    "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT",
}


@functools.cache
def program_options() -> dict[str, str]:
    """The options for programs on the default backend: CPU_OPTIONS where the CPU compiler
    accepts them (checked once by compiling a trivial program), else none."""
    if jax.default_backend() != "cpu":
        return {}
    try:
        jax.jit(lambda x: x + 1.0, compiler_options=CPU_OPTIONS).lower(0.0).compile()
    except Exception:  # a jaxlib without the option: run without it
        return {}
    return dict(CPU_OPTIONS)


def jit(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """`jax.jit(fn, **kwargs)` with `program_options()`."""
    return jax.jit(fn, compiler_options=program_options(), **kwargs)
