"""Import mujoco.mjx without its notes about a backend this project does not use.

On import, mujoco.mjx prints "Failed to import warp: ..." and "Failed to import mujoco_warp:
..." to stdout when the optional NVIDIA Warp backend is not installed. The JAX backend used
here never needs it, so those two lines are dropped. Anything else printed during the import
is passed on to stderr (not stdout, so `python -m envs.bench --json` output stays clean).
"""

import contextlib
import io
import sys

_OPTIONAL_BACKEND = ("Failed to import warp:", "Failed to import mujoco_warp:")

_printed = io.StringIO()
try:
    with contextlib.redirect_stdout(_printed):
        from mujoco import mjx  # noqa: F401
finally:
    for _line in _printed.getvalue().splitlines():
        if not _line.startswith(_OPTIONAL_BACKEND):
            print(_line, file=sys.stderr)
