"""Plane-capsule contact frames computed the way MuJoCo C computes them.

With pyramidal friction cones (all six Gymnasium XMLs) the friction pyramid is
oriented by the contact frame's first tangent, so the frame changes the physics.
MuJoCo C (`mjc_PlaneCapsule` + `mju_makeFrame`) always uses the capsule axis
projected onto the plane as that tangent. MJX 3.17 does the same only when the
projection's norm is >= 0.5 and otherwise falls back to a world axis, i.e. for any
capsule within 30 degrees of the plane normal, e.g. Ant's ankles when a foot is
planted. MJX then diverges from C by up to ~0.5 in qvel after one env step.

`c_plane_capsule_frames()` swaps our collider into MJX's dispatch table for the
duration of a trace only, so jitted env functions use it and nothing else in the
process is affected.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax
import jax.numpy as jnp
from mujoco.mjx._src import collision_driver
from mujoco.mjx._src.collision_primitive import collider
from mujoco.mjx._src.collision_types import Collision, GeomInfo
from mujoco.mjx._src.types import GeomType

_KEY = (GeomType.PLANE, GeomType.CAPSULE)
_MINVAL = 1e-15  # mjMINVAL: below it mju_normalize3 returns (1, 0, 0)


def _tangent(normal: jax.Array, axis: jax.Array) -> jax.Array:
    """mju_makeFrame's y axis for a given (unit) y hint: Gram-Schmidt, then normalise."""
    t = axis - normal * jnp.dot(normal, axis)
    norm = jnp.linalg.norm(t)
    unit_x = jnp.array([1.0, 0.0, 0.0], t.dtype)
    return jnp.where(norm < _MINVAL, unit_x, t / jnp.where(norm < _MINVAL, 1.0, norm))


@collider(ncon=2)
def plane_capsule(plane: GeomInfo, cap: GeomInfo) -> Collision:
    """Two sphere-plane contacts at the capsule's ends, frames aligned as in C."""
    n, axis = plane.mat[:, 2], cap.mat[:, 2]
    b = _tangent(n, axis)
    frame = jnp.array([n, b, jnp.cross(n, b)])
    radius, half_length = cap.size[0], cap.size[1]
    dists, poss = [], []
    for end in (cap.pos + axis * half_length, cap.pos - axis * half_length):
        dist = jnp.dot(end - plane.pos, n) - radius
        dists.append(dist)
        poss.append(end - n * (radius + 0.5 * dist))
    return jnp.stack(dists), jnp.stack(poss), jnp.stack([frame, frame])


@contextlib.contextmanager
def c_plane_capsule_frames() -> Iterator[None]:
    """Use the C-faithful plane-capsule collider while tracing the enclosed code."""
    table = collision_driver._COLLISION_FUNC
    previous = table[_KEY]
    table[_KEY] = plane_capsule
    try:
        yield
    finally:
        table[_KEY] = previous
