"""Multi-host runs: the seed axis spans every process's devices.

Each host runs the same command (one process per host). The jitted chunks need no
communication (seeds are independent), so only the host side changes: global arrays are
assembled from host values, read back with an all-gather, and only process 0 writes outputs.
With one process every helper reduces to its plain single-host form.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from mjx_nclql.config import DistConfig


def initialize(cfg: DistConfig) -> None:
    """`jax.distributed.initialize` once, before any JAX computation, when enabled."""
    if not cfg.enabled or jax.distributed.is_initialized():
        return
    jax.distributed.initialize(
        coordinator_address=cfg.coordinator_address,
        num_processes=cfg.num_processes,
        process_id=cfg.process_id,
    )


def is_primary() -> bool:
    """Process 0 writes the run's files and prints progress."""
    return jax.process_index() == 0


def shard_like_seeds(x: Any, sharding: jax.sharding.Sharding | None) -> jax.Array:
    """A global array from a host value that every process holds identically."""
    x = np.asarray(x)
    if sharding is None:
        return jax.numpy.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])


def to_host(tree: Any) -> Any:
    """Numpy copy of a pytree of (possibly process-spanning) arrays, on every process."""
    if jax.process_count() == 1:
        return jax.device_get(tree)
    from jax.experimental import multihost_utils

    def get(x: Any) -> Any:
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return multihost_utils.process_allgather(x, tiled=True)  # the global value
        return jax.device_get(x)

    return jax.tree.map(get, tree)


def any_process(flag: bool) -> bool:
    """True on every process if `flag` is true on any (e.g. a signal that reached one host)."""
    if jax.process_count() == 1:
        return flag
    from jax.experimental import multihost_utils

    return bool(np.any(multihost_utils.process_allgather(np.asarray(flag))))


def barrier(name: str) -> None:
    """Wait until every process reaches this point."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
