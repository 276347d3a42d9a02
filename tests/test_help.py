"""`python -m mjx_nclql.<command> --help`: complete, shows defaults and examples, and fast
(it must not import jax, which takes seconds before anything is printed)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from mjx_nclql.tools.cli_help import usage_examples

COMMANDS = ("evaluate", "render", "report", "bench")

# Run the command's module as `python -m` does, then say whether jax was imported.
PROBE = """
import runpy, sys
sys.argv = [{module!r}, "--help"]
code = 0
try:
    runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
print("jax imported:", "jax" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def help_of(module: str) -> tuple[str, bool]:
    """(--help output with whitespace collapsed, whether jax was imported), in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "jax imported:" in proc.stderr, proc.stderr[-2000:]
    return " ".join(proc.stdout.split()), "jax imported: True" in proc.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_help_mentions_every_argument_with_defaults_and_examples(command: str) -> None:
    module = importlib.import_module(f"mjx_nclql.tools.{command}")  # the command's own module
    parser = module.build_parser()
    text, jax_imported = help_of(f"mjx_nclql.{command}")
    assert not jax_imported, f"`{command} --help` imported jax"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help and action.help.strip(), f"{command}: {action.dest} has no help"
        names = action.option_strings or [action.metavar or action.dest]
        for name in names:
            assert name in text, f"{command}: {name} missing from --help"
        default = action.default
        if action.option_strings and default is not None and default is not False and default != []:
            assert f"default: {default}" in text, f"{command}: {action.dest}'s default not shown"
    examples = usage_examples(module.__doc__)
    assert examples, f"{command}'s docstring has no usage examples"
    assert " ".join(examples.split()) in text


def test_step_help_says_it_counts_post_warmup_transitions() -> None:
    for command in ("evaluate", "render"):
        text, _ = help_of(f"mjx_nclql.{command}")
        assert "--step TRANSITIONS" in text and "post-warm-up transitions per seed" in text
        assert "post_warmup_steps" in text


def test_train_help_lists_groups_and_config_without_loading_jax() -> None:
    """Hydra's --help: the config groups and the composed config (every key overrides)."""
    text, jax_imported = help_of("mjx_nclql.train")
    assert not jax_imported, "`train --help` imported jax"
    for needle in (
        "algo: lql, nclql",
        "env: ant, halfcheetah",
        "preset: fast, paper, smoke",
        "train:",
        "num_envs:",
        "sampler:",
        "log:",
        "num_seeds:",
        "run_dir:",
        "resume:",
    ):
        assert needle in text, needle


def test_public_names_are_listed_once_and_all_resolve() -> None:
    """`__all__` lists exactly the lazily exported names, and each one imports."""
    import mjx_nclql

    assert sorted(mjx_nclql.__all__) == sorted(mjx_nclql._EXPORTS)
    for name in mjx_nclql.__all__:
        assert getattr(mjx_nclql, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mjx_nclql.nope  # noqa: B018
