"""The layout DESIGN.md §1 draws, held by the imports themselves (docs/architecture.md):

    cli → commands → spec / compile / engine → metrics → outputs → render

Each rule names what a package must not import (function-level imports included); every module
is listed in docs/architecture.md and stays under ~400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "funnelcli"
MODULES = sorted(PACKAGE.rglob("*.py"))

# package → the funnelcli packages and third-party libraries it must never import
FORBIDDEN = {
    "spec": {"compile", "engine", "commands", "metrics", "outputs", "render", "cli", "duckdb"},
    "sql": {"compile", "engine", "commands", "metrics", "outputs", "render", "cli", "duckdb"},
    "compile": {"engine", "commands", "metrics", "outputs", "render", "cli", "duckdb"},
    "engine": {"compile", "commands", "metrics", "outputs", "render", "cli"},
    "metrics": {"engine", "commands", "render", "cli", "duckdb", "sqlglot"},
    "outputs": {"spec", "compile", "engine", "commands", "metrics", "cli", "duckdb", "sqlglot"},
    "render": {"spec", "compile", "engine", "commands", "cli", "duckdb", "sqlglot", "pydantic"},
    "commands": {"render", "cli", "rich", "typer"},
}
# the only modules that may import a library (relative to src/funnelcli)
ONLY = {
    "duckdb": {"engine/session.py"},
    "pyspark": {"engine/spark.py"},
    "typer": {"cli/"},
    "rich": {"cli/", "render/terminal/"},
    "polars": {"outputs/base.py"},
}
# The one sanctioned reach against the flow: report/1 keeps its worded data-quality notes,
# so FunnelReport.to_dict() words its findings with render/wording.py (imported lazily).
ALLOWED = {("outputs/report.py", "render")}


def imports(path: Path) -> set[str]:
    """funnelcli packages (as `funnelcli.<package>`) and top-level libraries it imports at run
    time (an `if TYPE_CHECKING:` import is only a type)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
            if node.module == "funnelcli":
                names += [f"funnelcli.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            found.add(".".join(parts[:2]) if parts[0] == "funnelcli" else parts[0])
    return found


def relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", MODULES, ids=[relative(p) for p in MODULES])
def test_imports_follow_the_pipeline(path: Path) -> None:
    name = relative(path)
    package = name.split("/")[0]
    found = imports(path)
    for target in FORBIDDEN.get(package, ()):
        if (name, target) in ALLOWED:
            continue
        assert f"funnelcli.{target}" not in found and target not in found, (
            f"{name} imports {target}"
        )
    for library, allowed in ONLY.items():
        if library in found:
            assert any(name.startswith(prefix) for prefix in allowed), f"{name} imports {library}"


@pytest.mark.parametrize("path", MODULES, ids=[relative(p) for p in MODULES])
def test_every_module_is_described_and_small(path: Path) -> None:
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"`{relative(path)}`" in architecture
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_few_modules_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "api.py", "errors.py"]
