"""functions/text/ is the lowest floor: it imports no module above it and has no import circle."""

from __future__ import annotations

import ast
from pathlib import Path

TEXT = Path(__file__).resolve().parents[2] / "functions" / "text"
# The leaf modules of plain data types the floor may stand on (they import nothing of ours).
BELOW = {"functions.model", "functions.errors"}


def _imports(module: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("functions")}


def _floor() -> dict[str, set[str]]:
    return {f"functions.text.{path.stem}": _imports(path) for path in TEXT.glob("*.py")}


def test_the_text_floor_imports_nothing_above_it() -> None:
    for module, imported in _floor().items():
        upward = {name for name in imported if not name.startswith("functions.text")} - BELOW
        assert not upward, f"{module} imports {sorted(upward)}"


def test_the_text_floor_has_no_import_circle() -> None:
    floor = _floor()

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for name in floor.get(start, set()):
            if name == target or (name not in seen and reaches(name, target, seen | {name})):
                return True
        return False

    circular = [module for module in floor if reaches(module, module, set())]
    assert not circular, f"import circle through {circular}"
