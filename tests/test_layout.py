"""The package's shape, read from its source (nothing is imported or compiled): the import
graph has no cycle, no module imports from a layer above its own, the graph is at most
`MAX_LEVELS` deep, and no function is longer than `MAX_FUNCTION_LINES`."""

from __future__ import annotations

import os

import pytest
from package_graph import ROOT, cycles, function_lengths, import_graph, levels

PACKAGE = os.path.join(ROOT, "mjx_nclql")
MAX_LEVELS = 7
MAX_FUNCTION_LINES = 60

# Layers, lowest first: a module may import from its own layer and the layers below it.
# The package's __init__ (the public names, imported lazily) and the `python -m` entry
# modules beside it sit on top.
LAYERS = ("mjx_nclql.core", "mjx_nclql.algo", "mjx_nclql.runtime", "mjx_nclql.tools", "mjx_nclql")


def layer(module: str) -> int:
    return next(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def test_no_import_cycle(graph) -> None:
    assert cycles(graph) == []


def test_no_upward_import(graph) -> None:
    upward = sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps if layer(d) > layer(m))
    assert upward == []


def test_import_graph_depth(graph) -> None:
    lv = levels(graph)
    deepest = max(lv.values())
    chain = sorted(m for m, v in lv.items() if v == deepest)
    assert deepest + 1 <= MAX_LEVELS, f"{deepest + 1} levels; top: {chain}"


def test_every_subpackage_is_a_layer(graph) -> None:
    packages = {m for m in graph if os.path.isfile(os.path.join(ROOT, *m.split("."), "__init__.py"))}
    assert packages == set(LAYERS)


def test_no_long_function() -> None:
    long = [(name, n) for name, n in function_lengths(PACKAGE) if n > MAX_FUNCTION_LINES]
    assert long == []
