"""`python -m mjx_nclql.evaluate`: the command of `mjx_nclql/tools/evaluate.py` (see its help)."""

from __future__ import annotations

import sys

from mjx_nclql.tools.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
