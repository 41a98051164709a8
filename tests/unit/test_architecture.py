"""The package's floors: each subpackage imports only from lower floors, through their
public `__init__`, and `scoring` and `training` never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "movierec"
# Floor 1 has an order of its own: settings raise errors.
FLOORS: dict[str, float] = {
    "errors": 1,
    "arrays": 1,
    "files": 1,
    "progress": 1,
    "settings": 1.5,
    "warehouse": 2,
    "model": 2,
    "land": 3,
    "training": 3,
    "scoring": 3,
    "publishing": 3,
    "evaluation": 4,
    "reporting": 4,
    "flows": 5,
    "cli": 6,
    "__main__": 7,
}
MAX_LINES = 350


def _unit(module: Path) -> str:
    """The floor unit a file belongs to: its top-level subpackage or module."""
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imports(module: Path) -> list[str]:
    """Every `movierec...` module a file imports (absolute; the project uses no relative)."""
    names = []
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "movierec":
            names += [f"movierec.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return [n for n in names if n == "movierec" or n.startswith("movierec.")]


def _modules() -> list[Path]:
    return sorted(
        p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE
    )


def import_graph() -> dict[str, set[str]]:
    """Which floor unit imports which (the docs' picture of the layers)."""
    graph: dict[str, set[str]] = {}
    for module in _modules():
        unit = _unit(module)
        for name in _imports(module):
            target = name.split(".")[1] if "." in name else "movierec"
            if target != unit:
                graph.setdefault(unit, set()).add(target)
    return graph


def test_every_unit_has_a_floor() -> None:
    assert {_unit(m) for m in _modules()} <= set(FLOORS)


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_through_public_names(module: Path) -> None:
    """A file imports other units only from lower floors, and only their package root."""
    unit = _unit(module)
    for name in _imports(module):
        parts = name.split(".")
        assert len(parts) >= 2, f"{module}: imports the package root"
        target = parts[1]
        if target == unit:
            continue
        assert FLOORS[target] < FLOORS[unit], f"{module} imports {name} (floor {FLOORS[target]})"
        if (PACKAGE / target).is_dir():
            assert len(parts) == 2, f"{module} imports {name}: use movierec.{target}'s public names"


def test_scoring_and_training_stand_side_by_side() -> None:
    graph = import_graph()
    assert "training" not in graph.get("scoring", set())
    assert "scoring" not in graph.get("training", set())


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_the_line_budget(module: Path) -> None:
    assert len(module.read_text().splitlines()) <= MAX_LINES


def test_cli_holds_no_policy() -> None:
    """The CLI reaches the product only through flows (plus settings and errors)."""
    assert import_graph()["cli"] == {"flows", "settings", "errors"}


def test_errors_come_from_one_module() -> None:
    """Every exception class the package defines is in errors.py."""
    for module in _modules():
        if module.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not any(b.endswith(("Error", "Exception")) for b in bases), (
                    f"{module}: class {node.name} is an exception outside errors.py"
                )


def test_no_bare_runtime_error_is_raised() -> None:
    for module in _modules():
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", "")
                assert name not in {"RuntimeError", "Exception"}, f"{module}: raises {name}"


if __name__ == "__main__":  # the import graph in docs/architecture.md
    graph = import_graph()
    for unit in sorted(graph, key=lambda u: (FLOORS[u], u)):
        targets = sorted(graph[unit], key=lambda t: (FLOORS[t], t))
        print(f"{unit:<11} (floor {FLOORS[unit]:g}) -> {', '.join(targets)}")
