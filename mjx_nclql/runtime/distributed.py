"""Where the seeds live: devices, hosts and the seed axis sharded over them.

A run's seeds are independent, so the seed axis is split over the visible devices and, in a
multi-host run (one process per host, the same command on each), over every process's
devices. The jitted chunks need no communication; only the host side changes: global arrays
are assembled from host values, read back with an all-gather, and only process 0 writes
outputs. With one process every helper reduces to its plain single-host form.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import jax
import numpy as np

from mjx_nclql.core.config import ConfigError, DistConfig, RunConfig


@dataclasses.dataclass(frozen=True)
class SeedLayout:
    """The devices the seed axis is split over, and its sharding (None on one device)."""

    devices: list[Any]
    sharding: jax.sharding.Sharding | None

    def put(self, x: Any) -> jax.Array:
        """A host value with a leading seed axis, placed across the devices."""
        return shard_like_seeds(x, self.sharding)


def seed_layout(cfg: RunConfig) -> SeedLayout:
    """`cfg.devices` devices (0 = all that split `num_seeds` evenly), checked before any
    compile; the seed axis is sharded over them."""
    devices = _select_devices(cfg)
    if len(devices) == 1:
        return SeedLayout(devices, None)
    mesh = jax.sharding.Mesh(np.array(devices), ("seed",))
    return SeedLayout(devices, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("seed")))


def _select_devices(cfg: RunConfig) -> list[Any]:
    devices = jax.devices()
    if jax.process_count() > 1:  # multi-host: the seed axis spans every process's devices
        if cfg.devices not in (0, len(devices)) or cfg.num_seeds % len(devices):
            raise ConfigError(
                f"a run over {jax.process_count()} processes shards num_seeds over all "
                f"{len(devices)} devices: num_seeds ({cfg.num_seeds}) must be a multiple of "
                f"{len(devices)} and devices must be 0, got {cfg.devices}"
            )
        return devices
    if cfg.devices == 0:  # all: the most devices that split the seeds evenly
        count = max(d for d in range(1, len(devices) + 1) if cfg.num_seeds % d == 0)
        return devices[:count]
    if cfg.devices > len(devices):
        raise ConfigError(f"devices={cfg.devices} but only {len(devices)} are visible")
    devices = devices[: cfg.devices]
    if cfg.num_seeds % len(devices):
        raise ConfigError(
            f"num_seeds ({cfg.num_seeds}) must be divisible by the device count "
            f"({len(devices)}): the seed axis is sharded across devices; set devices=N"
        )
    return devices


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def check_memory(need: int, layout: SeedLayout, what: str) -> None:
    """Refuse `need` bytes (split over the layout's devices) that cannot fit in device memory,
    before any compile; `what` says which settings to lower."""
    stats = jax.local_devices()[0].memory_stats() or {}
    limit = stats.get("bytes_limit")
    if limit is None:  # CPU: host memory
        limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    per_device = need / len(layout.devices)
    if per_device > 0.8 * limit:
        raise ConfigError(
            f"{what} needs {gib(per_device)} of replay per device but only {gib(limit)} is "
            "available: lower train.buffer_size or num_seeds, or add devices"
        )


def initialize(cfg: DistConfig) -> None:
    """`jax.distributed.initialize` once, before any JAX computation, when enabled."""
    if not cfg.enabled or jax.distributed.is_initialized():
        return
    jax.distributed.initialize(
        coordinator_address=cfg.coordinator_address,
        num_processes=cfg.num_processes,
        process_id=cfg.process_id,
    )


def multi_host() -> bool:
    return jax.process_count() > 1


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
