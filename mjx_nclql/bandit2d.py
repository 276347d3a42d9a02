"""`python -m mjx_nclql.bandit2d`: the command of `mjx_nclql/tools/bandit2d.py` (see its help)."""

from __future__ import annotations

from mjx_nclql.tools.bandit2d import main

if __name__ == "__main__":
    main()
