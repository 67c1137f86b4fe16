"""The engine's import graph, read from the source: its modules import each other without a cycle, and what
reads a run (the learner, the outcome store) does not import the pipeline. That the engine imports neither the
CLI nor the server is tests/test_composition.py's.

An import counts wherever it runs: at module level and inside a function. A function-level import only delays a
dependency (to start fast); it does not remove it, so it may not close a cycle. An import under
`if TYPE_CHECKING:` never runs, so the cycle check leaves it out: the language registry names the types its
entries return (a Syntax, a Toolchain), and those lower layers look the registry up at run time. The
pipeline rule counts type-only imports too: issue 13's cycle was pipeline -> learning at run time and
learning -> pipeline for its types.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "orchestration"
PACKAGE = "perforch.orchestration"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


MODULES = {_module_name(path): path for path in sorted(ENGINE.rglob("*.py"))}


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The absolute names `node` imports: modules, or, for `from x import name`, x.name when that is a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def _imports(module: str, *, type_only: bool) -> set[str]:
    """What `module` imports; with `type_only`, also its imports under `if TYPE_CHECKING:`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = set() if type_only else {id(node) for node in ast.walk(tree) if _is_type_checking_block(node)}
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if id(node) in skipped:
            pending.extend(node.orelse)  # type: ignore[attr-defined]  (an `else:` branch runs)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(_resolve(module, path, node))
        pending.extend(ast.iter_child_nodes(node))
    return found


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


GRAPH = {module: _imports(module, type_only=False) for module in MODULES}
ALL_IMPORTS = {module: _imports(module, type_only=True) for module in MODULES}


def test_the_walk_sees_the_engine_and_its_imports() -> None:
    assert f"{PACKAGE}.pipeline" in GRAPH and f"{PACKAGE}.rankings.router" in GRAPH
    assert f"{PACKAGE}.rankings.router" in GRAPH[f"{PACKAGE}.pipeline"]
    assert f"{PACKAGE}.languages" in GRAPH[f"{PACKAGE}.stubs.syntax"]  # a run-time lookup of the registry
    assert f"{PACKAGE}.stubs.syntax" not in GRAPH[f"{PACKAGE}.languages.base"]  # its type-only import is left out
    assert f"{PACKAGE}.stubs.syntax" in ALL_IMPORTS[f"{PACKAGE}.languages.base"]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the engine's modules, or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module] & graph.keys()):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_engine_has_no_import_cycle() -> None:
    cycle = _cycle(GRAPH)
    assert cycle is None, " -> ".join(name.removeprefix(f"{PACKAGE}.") for name in cycle or [])


def test_what_reads_a_run_imports_its_types_not_the_pipeline() -> None:
    readers = [module for module in ALL_IMPORTS if module.startswith(f"{PACKAGE}.rankings")]
    assert f"{PACKAGE}.run" in ALL_IMPORTS[f"{PACKAGE}.rankings.learning"]  # the learner reads a Result from here
    assert [m for m in readers if f"{PACKAGE}.pipeline" in ALL_IMPORTS[m]] == []
    engine = {f"{PACKAGE}.task", f"{PACKAGE}.redaction"}  # a leaf: the vocabulary and redaction only
    assert ALL_IMPORTS[f"{PACKAGE}.run"] <= engine | {"__future__", "collections.abc", "dataclasses"}


@pytest.mark.parametrize(
    ("graph", "expected"),
    [({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]), ({"a": {"b"}, "b": {"c"}, "c": set()}, None)],
)
def test_the_cycle_check_finds_a_cycle_and_only_a_cycle(graph, expected) -> None:
    assert _cycle(graph) == expected
