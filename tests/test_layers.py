"""The commands sit on top: nothing below them (sign-in, Graph, state, hosting, observability, the turn's budget and
faults) imports a command or a card, so a command's record is the one place that joins its Graph call to its card."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BELOW_THE_COMMANDS = ("auth", "graph", "state", "hosting", "observability", "turn")
ABOVE = {"skills", "cards"}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, wherever in it the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", BELOW_THE_COMMANDS)
def test_no_module_below_the_commands_imports_a_command_or_a_card(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))

    assert modules
    assert {str(path.relative_to(ROOT)): sorted(imported_packages(path) & ABOVE) for path in modules
            if imported_packages(path) & ABOVE} == {}
