"""The layers, read from the source: the engine (orchestration/) imports neither the CLI nor the server, and
the server does not import the CLI. The CLI is the composition root above both; nothing imports it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(folder: str) -> dict[str, set[str]]:
    """Every module each of a folder's files imports, anywhere in it, relative imports made absolute
    (`folder` is the package perforch.<folder>)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        package = ["perforch", *path.relative_to(ROOT).parent.parts]
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                names.add(module)
                names.update(f"{module}.{alias.name}" for alias in node.names)  # `from .. import cli`
        found[str(path.relative_to(ROOT))] = names
    return found


def _reaching(imports: dict[str, set[str]], *packages: str) -> dict[str, set[str]]:
    hits = {
        file: {name for name in names if any(name == p or name.startswith(f"{p}.") for p in packages)}
        for file, names in imports.items()
    }
    return {file: names for file, names in hits.items() if names}


def test_the_engine_imports_neither_the_cli_nor_the_server() -> None:
    engine = _imports("orchestration")
    assert len(engine) > 20  # the walk found the engine's modules
    assert _reaching(engine, "perforch.cli", "perforch.server") == {}


def test_the_server_does_not_import_the_cli() -> None:
    server = _imports("server")
    assert "server/app.py" in server and "perforch.orchestration.languages" in server["server/app.py"]
    assert _reaching(server, "perforch.cli") == {}


def test_nothing_imports_the_cli_but_itself_and_its_tests() -> None:
    for folder in ("orchestration", "server", "profiles", "benchmarks"):
        assert _reaching(_imports(folder), "perforch.cli") == {}, folder
