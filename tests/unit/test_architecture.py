"""The house's rules, read from the code's own imports (ARCHITECTURE.md draws them).

Rooms, lowest first: `base` (the vocabulary: model, meta, errors, schema) ← `text` (people's
words) ← the core (the other `functions/*.py` and `functions/invoices/`: ports, the flows and
their rules) ← `tick` and `adapters` ← `wiring` (the bootstrap, Google's wiring, the console) ←
`demo` ← `entry` (the CLI and the Cloud Functions). A room imports its own and lower rooms
only; no module imports in a circle; no module is over 400 lines. Imports inside functions
count like any other (they are there to keep a cold start light, never to dodge a circle), so a
circle they would close is still a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions"
MAX_LINES = 400

# Which rooms each room may import (besides itself). `text` is the ground floor.
MAY_IMPORT = {
    "base": set(),
    "text": {"base"},
    "core": {"base", "text"},
    "tick": {"base", "core", "text"},
    "adapters": {"base", "core", "text"},
    "wiring": {"base", "core", "text", "tick", "adapters"},
    "demo": {"base", "core", "text", "tick", "adapters", "wiring"},
    "entry": {"base", "core", "text", "tick", "adapters", "wiring", "demo"},
}
BASE = {"functions.model", "functions.errors", "functions.schema", "functions.meta"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def room(module: str) -> str:
    parts = module.split(".")
    if module in BASE:
        return "base"
    if parts[1:] == ["__main__"]:  # `python -m functions` is the CLI
        return "entry"
    if len(parts) > 1 and parts[1] in MAY_IMPORT:
        return parts[1]
    return "core"


def imports(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, ast.stmt]]:
    """Every sheetflow module `path` imports, with the statement that does it."""
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name in known and name != own:
                yield name, node


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {target for target, _ in imports(path, known)} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_in_a_circle() -> None:
    assert cycles(graph()) == []


def test_each_room_imports_only_its_own_and_lower_rooms() -> None:
    upward = [
        f"{source} ({room(source)}) imports {target} ({room(target)})"
        for source, targets in graph().items()
        for target in targets
        if target != "functions"
        and room(target) != room(source)
        and room(target) not in MAY_IMPORT[room(source)]
    ]
    assert upward == []


FLOW_MODULES = ("functions.invoice_flow", "functions.deal_watch", "functions.transitions")


def technology(module: str) -> str | None:
    """`functions.adapters.gsheets.api` → gsheets; None for what adapters share at their top."""
    parts = module.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "adapters" else None


def test_an_adapter_imports_no_other_technology_and_no_flow() -> None:
    wrong = [
        f"{source} imports {target}"
        for source, targets in graph().items()
        if room(source) == "adapters"
        for target in targets
        if (room(target) == "adapters" and technology(target) not in (None, technology(source)))
        or target in FLOW_MODULES
        or target.startswith("functions.invoices.")
    ]
    assert wrong == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: module_name(p))
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)}: {lines} lines"


def test_the_rules_see_the_imports_they_judge() -> None:
    """The checks above would pass on an empty graph: prove they read real imports."""
    edges = graph()
    assert "functions.tick.diff" in edges["functions.tick.planner"]
    assert "functions.model" in edges["functions.adapters.workbook.book"]
    assert "functions.demo.story" in edges["functions.entry.cli"]  # imported inside a command
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert room("functions.adapters.gsheets.api") == "adapters"
    assert room("functions.invoice_flow") == "core"
    assert room("functions.model") == "base"
    assert technology("functions.adapters.gsheets.api") == "gsheets"
    assert technology("functions.adapters.files") is None
