"""Checkpoints key leaves by tree path: a reordered state restores by name, a renamed one
fails loudly, and checkpoints keyed by flat index (older runs) still read."""

from __future__ import annotations

import flax.struct
import numpy as np
import orbax.checkpoint as ocp
import pytest

from mjx_nclql.runtime.checkpoint import Checkpointer, CheckpointError, _pack_legacy


@flax.struct.dataclass
class Saved:
    params: np.ndarray
    target_params: np.ndarray
    updates: np.ndarray


@flax.struct.dataclass
class Reordered:  # same fields, another order: flat leaf order differs
    target_params: np.ndarray
    updates: np.ndarray
    params: np.ndarray


@flax.struct.dataclass
class Renamed:
    params: np.ndarray
    target: np.ndarray
    updates: np.ndarray


def _state() -> Saved:
    return Saved(params=np.arange(3.0), target_params=np.full(3, 7.0), updates=np.array(5))


def test_reordered_fields_restore_by_name(tmp_path) -> None:
    ckpt = Checkpointer(str(tmp_path / "c"))
    ckpt.save(1, _state(), {"w": np.ones(2)})
    like = Reordered(target_params=np.zeros(3), updates=np.array(0), params=np.zeros(3))
    step, got = ckpt.restore_latest(like)
    assert step == 1 and isinstance(got, Reordered)
    np.testing.assert_array_equal(got.params, np.arange(3.0))
    np.testing.assert_array_equal(got.target_params, np.full(3, 7.0))
    assert int(got.updates) == 5
    ckpt.close()


def test_renamed_field_is_a_loud_error_not_a_fallback(tmp_path) -> None:
    ckpt = Checkpointer(str(tmp_path / "c"))
    ckpt.save(1, _state(), {"w": np.ones(2)})
    ckpt.save(2, _state(), {"w": np.ones(2)})
    like = Renamed(params=np.zeros(3), target=np.zeros(3), updates=np.array(0))
    with pytest.raises(
        CheckpointError,
        match=r"checkpoint 2 .*missing \['target'\].*"
        r"unexpected \['target_params'\]",
    ):
        ckpt.restore_latest(like)
    assert ckpt.steps() == [1, 2]  # nothing was set aside as damaged
    ckpt.close()


def test_flat_index_checkpoints_of_older_runs_still_restore(tmp_path) -> None:
    directory = str(tmp_path / "c")
    manager = ocp.CheckpointManager(
        directory, options=ocp.CheckpointManagerOptions(enable_async_checkpointing=False, create=True)
    )
    state = _state()
    manager.save(
        3,
        args=ocp.args.Composite(
            state=ocp.args.StandardSave(_pack_legacy(state)),
            policy=ocp.args.StandardSave(_pack_legacy(state)),
        ),
    )
    manager.wait_until_finished()
    manager.close()
    ckpt = Checkpointer(directory)
    like = Saved(params=np.zeros(3), target_params=np.zeros(3), updates=np.array(0))
    step, got = ckpt.restore_policy(like)
    assert step == 3
    np.testing.assert_array_equal(got.params, np.arange(3.0))
    np.testing.assert_array_equal(got.target_params, np.full(3, 7.0))
    ckpt.close()
