"""Command-line help shared by the light tools (`evaluate`, `render`, `report`, `bench`):
defaults shown, the module docstring's usage examples as the epilog. It imports no jax, so
`--help` answers at once."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Description and epilog kept as written (the examples' alignment), and "(default: X)"
    after each option whose default is a value; a None/False/empty default means "not given",
    which the help text itself explains."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            default is None
            or default is False
            or default is argparse.SUPPRESS
            or default == []
            or "default" in text
        ):
            return text
        return super()._get_help_string(action)


def usage_examples(doc: str | None) -> str | None:
    """The indented `python -m ...` lines of a command module's docstring, as an epilog."""
    lines = [line[4:] for line in (doc or "").splitlines() if line.startswith("    python -m ")]
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


def command_parser(
    prog: str,
    description: str,
    doc: str | None,
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """An ArgumentParser for `python -m <prog>` that shows defaults and the module docstring's
    usage examples."""
    return parser_class(
        prog=f"python -m {prog}",
        description=description,
        epilog=usage_examples(doc),
        formatter_class=HelpFormatter,
    )
