"""The package's import graph and function sizes, read from the source (no module is imported).

A module stands one level above every module of the package it imports; a graph with a cycle
has no levels, so `levels` raises on one (`condense` counts each cycle as one module). Every
`import` statement that can run counts, at the top of a module or inside a function; one under
`if TYPE_CHECKING:` only names a type for annotations, never runs, and is left out unless
`type_checking=True`. Run as a script to print the figures of a package directory:
`python tests/package_graph.py [PACKAGE_DIR]`.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def modules(package_dir: str) -> dict[str, str]:
    """Dotted module name -> file path, for every .py file under `package_dir`."""
    base = os.path.dirname(os.path.abspath(package_dir))
    out = {}
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), base)[:-3].split(os.sep)
                if rel[-1] == "__init__":
                    rel = rel[:-1]
                out[".".join(rel)] = os.path.join(folder, name)
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(node: ast.AST, type_checking: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
        return
    skip = _is_type_checking(node) and not type_checking
    for child in node.orelse if skip else ast.iter_child_nodes(node):  # type: ignore[attr-defined]
        yield from _imports(child, type_checking)


def _targets(
    tree: ast.AST, module: str, is_package: bool, known: set[str], type_checking: bool
) -> Iterator[str]:
    """The package's modules that `tree` imports (`from p import m` names module p.m if it
    is one, else p)."""
    for node in _imports(tree, type_checking):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                parts = module.split(".")
                parts = parts if is_package else parts[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    yield sub
                elif base in known:
                    yield base


def import_graph(package_dir: str, type_checking: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (itself excluded)."""
    mods = modules(package_dir)
    known = set(mods)
    graph = {}
    for name, path in mods.items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith("__init__.py")
        graph[name] = set(_targets(tree, name, is_package, known, type_checking)) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def levels(graph: dict[str, set[str]], condense: bool = False) -> dict[str, int]:
    """Module -> level (0: imports nothing of the package; else 1 + the highest it imports).
    With `condense`, each cycle counts as one module (for figures of a graph that has one)."""
    group = {v: v for v in graph}
    if condense:
        for component in cycles(graph):
            for v in component:
                group[v] = component[0]
    memo: dict[str, int] = {}

    def level(v: str, seen: tuple[str, ...]) -> int:
        g = group[v]
        if g in memo:
            return memo[g]
        if g in seen:
            raise ValueError(f"import cycle through {g}")
        members = [u for u in graph if group[u] == g]
        deps = {group[w] for u in members for w in graph[u]} - {g}
        memo[g] = 1 + max((level(w, (*seen, g)) for w in deps), default=-1)
        return memo[g]

    return {v: level(v, ()) for v in graph}


def _walk_functions(node: ast.AST, prefix: str, out: list[tuple[str, int]]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            qual = f"{prefix}{child.name}"
            out.append((qual, child.end_lineno - child.lineno + 1))
            _walk_functions(child, qual + ".", out)
        elif isinstance(child, ast.ClassDef):
            _walk_functions(child, f"{prefix}{child.name}.", out)
        else:
            _walk_functions(child, prefix, out)


def function_lengths(package_dir: str) -> list[tuple[str, int]]:
    """(module:qualified name, lines from `def` to the last line) of every function."""
    out = []
    for name, path in modules(package_dir).items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)

        _walk_functions(tree, f"{name}:", out)
    return out


def figures(package_dir: str, type_checking: bool = False) -> dict[str, object]:
    """Modules, import edges, levels (cycles condensed) and the cycles of a package."""
    graph = import_graph(package_dir, type_checking)
    lv = levels(graph, condense=True)
    return {
        "modules": len(graph),
        "edges": sum(len(v) for v in graph.values()),
        "levels": max(lv.values()) + 1,
        "cycles": cycles(graph),
    }


if __name__ == "__main__":
    package = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "mjx_nclql")
    print("imports that run:", figures(package))
    print("with TYPE_CHECKING imports:", figures(package, type_checking=True))
    graph = import_graph(package)
    for module, lvl in sorted(levels(graph, condense=True).items(), key=lambda x: (-x[1], x[0])):
        print(f"{lvl:2d} {module}")
    long = sorted((n for n in function_lengths(package) if n[1] > 60), key=lambda x: -x[1])
    print("functions over 60 lines:", long)
