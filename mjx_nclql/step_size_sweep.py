"""`python -m mjx_nclql.step_size_sweep`: the command of `mjx_nclql/tools/step_size_sweep.py`
(see its help)."""

from __future__ import annotations

from mjx_nclql.tools.step_size_sweep import main

if __name__ == "__main__":
    main()
