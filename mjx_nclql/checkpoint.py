"""Orbax checkpoints of the whole training state, with fallback past a damaged one.

Each checkpoint holds two items: `state` (everything needed to continue bit-for-bit: agent,
replay buffer, environments, PRNG keys) and `policy` (just the online critic parameters, so
loading an agent to act does not read the replay buffer). Orbax writes into a temporary
directory and renames it on commit, so an interrupted save never replaces a good checkpoint.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from typing import Any

import jax
import orbax.checkpoint as ocp

from mjx_nclql.distributed import barrier

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """No usable checkpoint could be read."""


def _abstract(tree: Any) -> Any:
    return jax.tree.map(ocp.utils.to_shape_dtype_struct, tree)


def _pack(tree: Any) -> dict[str, Any]:
    """Leaves by flat index, without the zero-size ones (orbax refuses to store those)."""
    return {f"{i:05d}": x for i, x in enumerate(jax.tree.leaves(tree)) if x.size}


def _unpack(payload: dict[str, Any], like: Any) -> Any:
    leaves, treedef = jax.tree.flatten(like)
    if set(payload) != set(_pack(like)):
        raise CheckpointError("checkpoint structure does not match this run")
    return treedef.unflatten([payload.get(f"{i:05d}", x) for i, x in enumerate(leaves)])


class Checkpointer:
    def __init__(self, directory: str, keep: int = 3) -> None:
        self.directory = os.path.abspath(directory)
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, enable_async_checkpointing=False, create=True
            ),
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

    def _restore_item(self, item: str, like: Any) -> tuple[int, Any]:
        abstract = _abstract(_pack(like))
        steps = self.steps()
        if not steps:
            raise CheckpointError(f"no checkpoint found in {self.directory}")
        errors = []
        for step in reversed(steps):
            try:
                restored = self._manager.restore(
                    step, args=ocp.args.Composite(**{item: ocp.args.StandardRestore(abstract)})
                )
                result = _unpack(dict(restored[item]), like)
            except Exception as err:  # noqa: BLE001 - any read failure means: try an older one
                msg = f"checkpoint {step} in {self.directory} is unreadable ({type(err).__name__}: {err})"
                log.warning(msg)
                errors.append(msg)
                continue
            if item == "state":
                self._set_aside([s for s in steps if s > step])
            return step, result
        raise CheckpointError("no readable checkpoint:\n  " + "\n  ".join(errors))

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

    def restore_policy(self, like_params: Any) -> tuple[int, Any]:
        return self._restore_item("policy", like_params)

    def close(self) -> None:
        self._manager.close()
