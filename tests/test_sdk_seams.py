"""The agent reaches into the Microsoft 365 Agents SDK (and msgraph-sdk, kiota, MSAL) only where docs/sdk-seams.md says.

The page was checked against the pinned versions, and its upgrade checklist names every private module, name and
attribute of those libraries that the agent's code imports, overrides or reads, and every attribute of their classes it
replaces. The agent's code is every module `bot.py` imports, directly or not, found by reading the source. So an
upgrade past a pin, a new private reach-in, or a checklist entry the code no longer needs fails here until the page is
brought up to date.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import textwrap
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "sdk-seams.md"
CHECKLIST_HEADING = "## Upgrade checklist"
LIBRARIES = frozenset({"microsoft_agents", "msgraph", "msgraph_core", "kiota_abstractions", "kiota_http", "msal"})
"""Top-level modules of the libraries whose behaviour the page records."""


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def is_library(module: str) -> bool:
    return module.split(".")[0] in LIBRARIES


# ── What the agent's code is ────────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Source:
    module: str
    path: Path
    tree: ast.Module

    @property
    def where(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    return next((path for path in (base.with_suffix(".py"), base / "__init__.py") if path.is_file()), None)


def _imported_modules(source: Source) -> Iterator[str]:
    """Every module name an import in `source` may refer to (a `from x import y` may import module `x.y`)."""
    package = source.module if source.path.name == "__init__.py" else source.module.rpartition(".")[0]
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


@functools.cache
def agent_sources() -> tuple[Source, ...]:
    """`bot.py` and every module of this project it imports, at any depth and wherever the import stands."""
    found: dict[str, Source] = {}
    pending = ["bot"]
    while pending:
        module = pending.pop()
        path = _module_file(module)
        if module in found or path is None:
            continue
        found[module] = source = Source(module, path, ast.parse(path.read_text(), filename=str(path)))
        pending.extend(_imported_modules(source))
    return tuple(sorted(found.values(), key=lambda source: source.module))


# ── What the agent's code reaches ───────────────────────────────────────────────────────────────────────────────────


def private_imports(tree: ast.Module) -> set[tuple[str, str]]:
    """(module, name) of each import from the libraries whose module path or name is private; name "" for a plain
    `import`."""
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level and is_library(node.module):
            private_module = any(is_private(part) for part in node.module.split("."))
            found |= {(node.module, alias.name) for alias in node.names if private_module or is_private(alias.name)}
        elif isinstance(node, ast.Import):
            found |= {(alias.name, "") for alias in node.names
                      if is_library(alias.name) and any(is_private(part) for part in alias.name.split("."))}
    return found


def _library_classes(cls: type) -> list[type]:
    return [base for base in cls.__mro__ if is_library(base.__module__)]


@functools.cache
def _defined_by(cls: type) -> frozenset[str]:
    """Names `cls` itself defines: its class attributes and methods, and the attributes its methods set on `self`."""
    names = set(vars(cls))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return frozenset(names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name)
                and node.value.id == "self"):
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def _owner(name: str, classes: list[type]) -> str | None:
    """`Class.name` for the first of `classes` that defines `name`."""
    return next((f"{cls.__name__}.{name}" for cls in classes if name in _defined_by(cls)), None)


def _defined_names(node: ast.AST) -> set[str]:
    """What `node` defines, if it is a statement that does: a function's or a method's name, assigned names."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return {node.name}
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {target.id for target in targets if isinstance(target, ast.Name)}
    return set()


def _own_names(tree: ast.Module) -> set[str]:
    """Names our code defines for itself: functions and methods, variables and class attributes, attributes it sets."""
    names: set[str] = set()
    for node in ast.walk(tree):
        names |= _defined_names(node)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
    return names


def _is_self_or_super(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id in ("self", "cls")) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super")


def private_attributes(sources: tuple[Source, ...]) -> dict[str, set[str]]:
    """`Class.name` of each private attribute of a library class our code overrides, reads or sets, with where.

    In a class of ours that derives from a library class: every private name it defines or reaches that a library
    class it derives from defines (`MsalAuth._create_client_application`, `Authorization._storage`). Anywhere: a
    private attribute read off another object (`auth._resolve_handler`) that a library class the agent uses defines and
    our code does not."""
    found: dict[str, set[str]] = {}
    library_classes: list[type] = []
    own: set[str] = set()
    for source in sources:
        own |= _own_names(source.tree)
        module = importlib.import_module(source.module)
        for value in vars(module).values():
            if isinstance(value, type):
                library_classes += [cls for cls in _library_classes(value) if cls not in library_classes]
    for source in sources:
        module = importlib.import_module(source.module)
        for node in ast.walk(source.tree):
            if isinstance(node, ast.ClassDef) and isinstance(cls := getattr(module, node.name, None), type):
                bases = _library_classes(cls)
                reached = {child.attr for child in ast.walk(node) if isinstance(child, ast.Attribute)}
                reached |= {name for statement in node.body for name in _defined_names(statement)}
                for name in filter(is_private, reached):
                    if bases and (owner := _owner(name, bases)):
                        found.setdefault(owner, set()).add(source.where)
            elif (isinstance(node, ast.Attribute) and is_private(node.attr) and not _is_self_or_super(node.value)
                  and node.attr not in own and (owner := _owner(node.attr, library_classes))):
                found.setdefault(owner, set()).add(source.where)
    return found


def replaced_class_attributes(sources: tuple[Source, ...]) -> dict[str, set[str]]:
    """`Class.name` of each attribute our code assigns on a library class itself (a patch of the library)."""
    found: dict[str, set[str]] = {}
    for source in sources:
        module = importlib.import_module(source.module)
        for node in ast.walk(source.tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AugAssign | ast.AnnAssign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                    owner = getattr(module, target.value.id, None)
                    if isinstance(owner, type) and is_library(owner.__module__):
                        found.setdefault(f"{owner.__name__}.{target.attr}", set()).add(source.where)
    return found


# ── What the page says ──────────────────────────────────────────────────────────────────────────────────────────────


def page_lines() -> list[str]:
    return PAGE.read_text().splitlines()


def checklist_entries() -> list[str]:
    """The code span opening each row of the upgrade checklist's table."""
    lines = page_lines()
    start = lines.index(CHECKLIST_HEADING) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [match.group(1) for line in lines[start:end] if (match := re.match(r"^\|\s*`([^`]+)`", line))]


def listed_imports() -> set[tuple[str, str]]:
    return {pair for entry in checklist_entries() if entry.startswith(("from ", "import "))
            for pair in private_imports(ast.parse(entry))}


def listed_attributes() -> set[str]:
    return {entry for entry in checklist_entries() if re.fullmatch(r"\w+\.\w+", entry)}


def pinned_libraries() -> dict[str, Requirement]:
    """The project's dependencies that install one of `LIBRARIES`, by their text in pyproject.toml."""
    providers = {canonicalize_name(dist) for module, dists in packages_distributions().items() if module in LIBRARIES
                 for dist in dists}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {text: requirement for text in project["dependencies"]
            if canonicalize_name((requirement := Requirement(text)).name) in providers}


# ── The specification ───────────────────────────────────────────────────────────────────────────────────────────────


def test_installed_sdk_versions_are_within_the_pins() -> None:
    pins = pinned_libraries().values()
    assert "microsoft-agents-hosting-core" in {canonicalize_name(pin.name) for pin in pins}
    outside = {pin.name: version(pin.name) for pin in pins
               if not pin.specifier.contains(version(pin.name), prereleases=True)}
    assert not outside, f"installed outside pyproject.toml's pins: {outside}"


def test_the_page_names_the_pins_it_was_checked_against() -> None:
    """Moving a pin (an SDK upgrade) means re-checking the page: its pin list changes with pyproject.toml's."""
    text = PAGE.read_text()
    stale = [pin for pin in pinned_libraries() if f"`{pin}`" not in text]
    assert not stale, f"docs/sdk-seams.md was not checked against these pins of pyproject.toml: {stale}"


def test_the_scan_reads_the_agents_code_and_finds_private_imports() -> None:
    assert {"bot", "auth.connections", "skills.commands"} <= {source.module for source in agent_sources()}
    assert private_imports(ast.parse("from microsoft_agents.hosting.core._oauth import _FlowState\n"
                                     "from msal.individual_cache import _ExpiringMapping\n"
                                     "import microsoft_agents.hosting.core._oauth")) == {
        ("microsoft_agents.hosting.core._oauth", "_FlowState"), ("msal.individual_cache", "_ExpiringMapping"),
        ("microsoft_agents.hosting.core._oauth", "")}


def test_every_private_sdk_import_is_on_the_checklist() -> None:
    reached = {(module, name, source.where) for source in agent_sources() for module, name in private_imports(
        source.tree)}
    listed = listed_imports()
    missing = sorted(f"{where}: from {module} import {name}" for module, name, where in reached
                     if (module, name) not in listed)
    assert not missing, f"private SDK imports missing from the upgrade checklist of docs/sdk-seams.md: {missing}"


def test_every_private_sdk_attribute_the_agent_reaches_is_on_the_checklist() -> None:
    reached = private_attributes(agent_sources())
    missing = sorted(f"{name} ({', '.join(sorted(where))})" for name, where in reached.items()
                     if name not in listed_attributes())
    assert not missing, f"private SDK attributes missing from the upgrade checklist of docs/sdk-seams.md: {missing}"


def test_every_sdk_class_attribute_the_agent_replaces_is_on_the_checklist() -> None:
    reached = replaced_class_attributes(agent_sources())
    missing = sorted(f"{name} ({', '.join(sorted(where))})" for name, where in reached.items()
                     if name not in listed_attributes())
    assert not missing, f"patched SDK class attributes missing from docs/sdk-seams.md's upgrade checklist: {missing}"


def test_the_checklist_lists_only_what_the_agent_still_reaches() -> None:
    sources = agent_sources()
    imports = {pair for source in sources for pair in private_imports(source.tree)}
    attributes = set(private_attributes(sources)) | set(replaced_class_attributes(sources))
    stale = sorted({f"from {module} import {name}" for module, name in listed_imports() - imports}
                   | (listed_attributes() - attributes))
    unreadable = [entry for entry in checklist_entries()
                  if not entry.startswith(("from ", "import ")) and entry not in listed_attributes()]
    assert not unreadable, f"checklist entries that are neither an import nor Class.attribute: {unreadable}"
    assert not stale, f"docs/sdk-seams.md's checklist lists what the agent no longer reaches: {stale}"
