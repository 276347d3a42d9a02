"""Import mujoco.mjx with its stdout notes sent to stderr.

mujoco.mjx prints "Failed to import warp" (an optional GPU backend we do not use)
to stdout on import, which would corrupt `python -m envs.bench --json` output.
"""

import contextlib
import sys

with contextlib.redirect_stdout(sys.stderr):
    from mujoco import mjx  # noqa: F401
