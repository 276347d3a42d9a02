"""`python -m mjx_nclql.bench`: the throughput of one configuration (`tools/bench.py`), or
with `--suite device` the accelerator campaign (`tools/device_suite.py`); both measure
through `tools/measure.py`. See `--help`."""

from __future__ import annotations

import sys

from mjx_nclql.tools import bench


def main(argv: list[str] | None = None) -> int:
    parser = bench.build_parser()
    args = parser.parse_args(argv)
    if args.suite == "device":
        from mjx_nclql.tools import device_suite

        return device_suite.run_from_command(parser, args, argv)
    return bench.run(parser, args)


if __name__ == "__main__":
    sys.exit(main())
