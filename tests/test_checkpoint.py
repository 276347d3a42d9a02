"""Checkpoints key leaves by tree path: a reordered state restores by name, a renamed one
fails loudly, and checkpoints keyed by flat index (older runs) still read."""

from __future__ import annotations

import logging

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


def test_a_restored_state_compiles_once_like_the_running_one(tmp_path, caplog) -> None:
    """MJX states hold zero-size leaves, which are not stored and come from the fresh state on
    restore. The restored state must be placed as one whole, or a jitted step compiles twice:
    once for the restored state and again for its own output (a resumed campaign run lost
    3-17 minutes to this on each resume)."""
    import jax
    import jax.numpy as jnp

    fresh = jax.jit(lambda: {"w": jnp.ones(3), "empty": jnp.zeros((0, 2)), "n": jnp.zeros((), jnp.int32)})()
    ckpt = Checkpointer(str(tmp_path / "c"))
    ckpt.save(1, {"w": jnp.arange(3.0), "empty": jnp.zeros((0, 2)), "n": jnp.array(4)}, {"w": np.ones(2)})
    _, restored = ckpt.restore_latest(fresh)
    ckpt.close()
    step = jax.jit(lambda s: {"w": s["w"] * 2, "empty": s["empty"], "n": s["n"] + 1})
    with caplog.at_level(logging.WARNING), jax.log_compiles():
        out = step(step(step(restored)))
    compiles = [r for r in caplog.records if r.getMessage().startswith("Compiling jit(<lambda>)")]
    assert len(compiles) == 1, [r.getMessage()[:120] for r in compiles]
    np.testing.assert_array_equal(out["w"], 8 * np.arange(3.0))
    assert int(out["n"]) == 7 and out["empty"].shape == (0, 2)
