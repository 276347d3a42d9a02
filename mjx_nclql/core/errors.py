"""The one base class of every error this project raises on purpose.

Each command catches its own subclass to print a one-line message; a caller of the Python API
catches `MjxNclqlError` for any of them. The subclasses also keep the built-in base they had
(`ValueError`, `RuntimeError`), so existing handlers of those still see them.
"""

from __future__ import annotations


class MjxNclqlError(Exception):
    """Any error raised by mjx_nclql on purpose: bad input, an unusable run, a failed run."""
