"""`python -m mjx_nclql.render`: the command of `mjx_nclql/tools/render.py` (see its help)."""

from __future__ import annotations

import sys

from mjx_nclql.tools.render import main

if __name__ == "__main__":
    sys.exit(main())
