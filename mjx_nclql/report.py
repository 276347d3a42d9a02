"""`python -m mjx_nclql.report`: the command of `mjx_nclql/tools/report.py` (see its help)."""

from __future__ import annotations

import sys

from mjx_nclql.tools.report import main

if __name__ == "__main__":
    sys.exit(main())
