"""Command line: `python -m mjx_nclql.train env=ant [key=value ...]` (Hydra).

The command composes the config as Hydra does (`configs/`, overrides, multirun `-m`) and
hands it to `mjx_nclql.runtime.loop.run`; exit codes: 2 for a bad config, 1 for a failed run,
130 for a run stopped by a signal (checkpointed; `resume=RUN_DIR` continues it).
"""

from __future__ import annotations

import sys
from typing import Any

from mjx_nclql.core.config import ConfigError
from mjx_nclql.runtime.loop import NonFiniteError, run


def quiet_libraries() -> None:
    """Orbax/absl log every checkpoint step at INFO; keep the console for the progress bar."""
    import logging

    for name in ("absl", "orbax", "jax._src.xla_bridge"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _main() -> None:
    from mjx_nclql.core import cli_config

    def entry(dcfg: Any) -> None:
        from mjx_nclql.runtime.checkpoint import CheckpointError

        quiet_libraries()
        try:
            result = run(cli_config.config_from_hydra(dcfg))
        except ConfigError as err:
            print(f"config error: {err}", file=sys.stderr)
            sys.exit(2)
        except (NonFiniteError, CheckpointError) as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(1)
        if result.status == "interrupted":
            sys.exit(130)

    cli_config.hydra_main(entry)


if __name__ == "__main__":
    _main()
