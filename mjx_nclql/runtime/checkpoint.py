"""Orbax checkpoints of the whole training state, with fallback past a damaged one.

Each checkpoint holds two items: `state` (everything needed to continue bit-for-bit: agent,
replay buffer, environments, PRNG keys) and `policy` (just the online critic parameters, so
loading an agent to act does not read the replay buffer). Orbax writes into a temporary
directory and renames it on commit, so an interrupted save never replaces a good checkpoint.
Leaves are stored under their tree paths and checked against the state being restored, so a
changed state fails loudly; checkpoints of older runs, keyed by flat leaf index, still read.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from typing import Any

import jax
import orbax.checkpoint as ocp

from mjx_nclql.core.errors import MjxNclqlError
from mjx_nclql.runtime.distributed import barrier

log = logging.getLogger(__name__)


class CheckpointError(MjxNclqlError, RuntimeError):
    """No usable checkpoint could be read."""


def _abstract(tree: Any) -> Any:
    return jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)


def _key_name(entry: Any) -> str:
    for attr in ("name", "key", "idx"):  # GetAttrKey, DictKey, SequenceKey
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def leaf_paths(tree: Any) -> list[tuple[str, Any]]:
    """(dotted tree path, leaf) pairs, e.g. `agent.params.critics.hidden_0.kernel`."""
    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    return [(".".join(_key_name(k) for k in path), x) for path, x in flat]


def _pack(tree: Any) -> dict[str, Any]:
    """Leaves keyed by their tree path, without the zero-size ones (orbax refuses to store
    those). Keys by path, not position: a reordered or renamed field fails loudly on restore
    instead of landing in another field."""
    return {k: x for k, x in leaf_paths(tree) if x.size}


def _pack_legacy(tree: Any) -> dict[str, Any]:
    """Checkpoints written before path keys: leaves by flat index."""
    return {f"{i:05d}": x for i, x in enumerate(jax.tree.leaves(tree)) if x.size}


def _placed(x: Any, like: Any) -> Any:
    """`x` on `like`'s sharding. Every leaf of a restored state is placed the same way, the
    zero-size ones taken from `like` too: a state mixing orbax's committed arrays with
    uncommitted ones compiles a jitted step twice, once for itself and once for its output."""
    return jax.device_put(x, like.sharding) if isinstance(like, jax.Array) else x


def _unpack(payload: dict[str, Any], like: Any, legacy: bool = False) -> Any:
    leaves, treedef = jax.tree.flatten(like)
    keys = [f"{i:05d}" for i in range(len(leaves))] if legacy else [k for k, _ in leaf_paths(like)]
    return treedef.unflatten([_placed(payload.get(k, x), x) for k, x in zip(keys, leaves, strict=True)])


def _check_keys(stored: set[str], expected: set[str], where: str) -> None:
    if stored != expected:
        missing, extra = sorted(expected - stored), sorted(stored - expected)
        raise CheckpointError(
            f"{where} does not match this run's state: missing {missing[:6]}"
            f"{' ...' if len(missing) > 6 else ''}, unexpected {extra[:6]}"
            f"{' ...' if len(extra) > 6 else ''}"
        )


class Checkpointer:
    def __init__(self, directory: str, keep: int = 3) -> None:
        self.directory = os.path.abspath(directory)
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, enable_async_checkpointing=False, create=True
            ),
            item_handlers={
                "state": ocp.StandardCheckpointHandler(),
                "policy": ocp.StandardCheckpointHandler(),
            },
        )

    def steps(self) -> list[int]:
        self._manager.reload()
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: Any, policy_params: Any) -> None:
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(_pack(state)),
                policy=ocp.args.StandardSave(_pack(policy_params)),
            ),
            force=True,
        )
        self._manager.wait_until_finished()

    def _restore_item(self, item: str, like: Any, only: int | None = None) -> tuple[int, Any]:
        """Newest readable checkpoint's `item` (older ones are tried past a damaged one), or
        exactly checkpoint `only`."""
        steps = self.steps()
        if not steps:
            raise CheckpointError(f"no checkpoint found in {self.directory}")
        if only is not None and only not in steps:
            raise CheckpointError(f"no checkpoint {only} in {self.directory}; it holds {steps}")
        errors = []
        for step in [only] if only is not None else reversed(steps):
            try:
                result = self._read(step, item, like)
            except CheckpointError:
                raise  # readable, but another structure: never fall back silently
            except Exception as err:  # noqa: BLE001 - any read failure means: try an older one
                msg = f"checkpoint {step} in {self.directory} is unreadable ({type(err).__name__}: {err})"
                log.warning(msg)
                errors.append(msg)
                continue
            if item == "state":
                self._set_aside([s for s in steps if s > step])
            return step, result
        raise CheckpointError("no readable checkpoint:\n  " + "\n  ".join(errors))

    def _read(self, step: int, item: str, like: Any) -> Any:
        """Checkpoint `step`'s `item` restored into the structure of `like`, after checking
        that it holds exactly the leaves `like` has (by tree path)."""
        stored = set(self._manager.item_metadata(step)[item].keys())
        if not stored:
            raise RuntimeError("no leaf metadata")  # damaged: the caller tries an older one
        legacy = bool(stored) and all(k.isdigit() for k in stored)
        payload = (_pack_legacy if legacy else _pack)(like)
        _check_keys(stored, set(payload), f"checkpoint {step} ({item}) in {self.directory}")
        restored = self._manager.restore(
            step, args=ocp.args.Composite(**{item: ocp.args.StandardRestore(_abstract(payload))})
        )
        return _unpack(dict(restored[item]), like, legacy=legacy)

    def _set_aside(self, steps: list[int]) -> None:
        """Move unreadable checkpoints out of the way (kept for inspection, not deleted) so
        the resumed run can write those steps again."""
        if not steps:
            return
        if jax.process_index() == 0:  # one mover on a filesystem shared by all hosts
            dest = self.directory + "_damaged"
            os.makedirs(dest, exist_ok=True)
            for step in steps:
                target = os.path.join(dest, f"{step}-{int(time.time())}")
                shutil.move(os.path.join(self.directory, str(step)), target)
                log.warning("moved unreadable checkpoint %s to %s", step, target)
        barrier("damaged checkpoints set aside")
        self._manager.reload()

    def restore_latest(self, like_state: Any) -> tuple[int, Any]:
        """Newest readable (step, state); older ones are tried if the newest is damaged."""
        return self._restore_item("state", like_state)

    def restore_policy(self, like_params: Any, step: int | None = None) -> tuple[int, Any]:
        """(step, online critic parameters) of checkpoint `step`, or of the newest readable."""
        return self._restore_item("policy", like_params, step)

    def close(self) -> None:
        self._manager.close()
