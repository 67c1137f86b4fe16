"""Python: pytest in the workspace's venv (.venv or venv in the root), else in our own interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tree_sitter import Node

from ...stubs import FunctionNotFound, FunctionSpan, find_function
from ...stubs.trees import Parsed, container_name, enclosing_containers, function_name
from ...workspace.docexamples import Example
from ...workspace.errors import WorkspaceError
from ...workspace.project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase
from . import SPEC

_VENVS = (".venv", "venv")
_TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
_DOC_TEST_FILE = "test_perforch_doc_examples.py"
_TIMER = Path(__file__).with_name("perforch_timer.py")
_PARSE = "import ast, sys; ast.parse(open(sys.argv[1], 'rb').read(), sys.argv[1])"


class PythonProject(ProjectLanguage):
    spec = SPEC
    project_kind = "Python project"
    markers = ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini")
    needs_marker = False
    runner_name = "pytest"
    whole_suite_name = "pytest"
    # pytest -q prints each failure under a "____ test_name ____" rule.
    failure_start = re.compile(r"^_{3,} .* _{3,}$", re.MULTILINE)
    compile_failure = re.compile(r"^E\s+(SyntaxError|IndentationError|ImportError|ModuleNotFoundError)", re.MULTILINE)

    @property
    def interpreter(self) -> str:
        for venv in _VENVS:
            candidate = self.site.root / venv / "bin" / "python"
            if candidate.exists():
                return str(candidate)
        return sys.executable

    def check_tools(self) -> None:
        probe = subprocess.run([self.interpreter, "-c", "import pytest"], capture_output=True)
        if probe.returncode != 0:
            raise WorkspaceError(
                f"pytest is not installed in {self.interpreter}: `{self.interpreter} -m pip install pytest`"
            )

    def env(self) -> dict[str, str]:
        # No bytecode: a .pyc is trusted when the source's mtime (in whole seconds) and size match, which
        # two candidates of equal length written within a second would. The edited module's import root
        # comes first on the path, so an editable install of the user's tree cannot shadow the candidate.
        import_roots = dict.fromkeys(
            [str(self.site.tree / _import_root(self.site.root, self.site.file)), str(self.site.tree)]
        )
        inherited = os.environ.get("PYTHONPATH", "")
        return {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": os.pathsep.join([*import_roots, inherited]).rstrip(":")}

    def is_test_file(self, relative: str, text: str) -> bool:
        return _TEST_FILE.search(relative) is not None

    def test_case(self, parsed: Parsed, function: Node, relative: str) -> TestCase | None:
        name = function_name(function, parsed.syntax)
        classes = [container_name(c, parsed.syntax) for c in enclosing_containers(function, parsed.syntax)]
        if not name.startswith("test") or any(not c.startswith("Test") for c in classes):
            return None
        return TestCase(relative, name, "::".join(reversed(classes)) or None)

    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        node_ids = [
            f"{case.path}::{case.suite}::{case.name}" if case.suite else f"{case.path}::{case.name}" for case in cases
        ]
        return self._pytest(scratch, *node_ids)

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        return self._pytest(scratch)  # what pytest collects from the root, by the project's own settings

    def _pytest(self, scratch: Path, *node_ids: str) -> Plan:
        report = scratch / "pytest.xml"
        argv = (self.interpreter, "-m", "pytest", "-q", "--tb=short", "-p", "no:cacheprovider", f"--junitxml={report}")
        test = Command((*argv, *node_ids), self.site.tree, "test", self.env())
        return Plan(build=(self._syntax_check(),), test=(test,), reports=(report,))

    def _syntax_check(self) -> Command:
        """The edited file parsed by the workspace's interpreter (its grammar, not ours): a syntax error
        is a compile error, not a failing test. Parsing writes no bytecode."""
        edited = str(self.site.tree / self.site.file)
        return Command((self.interpreter, "-c", _PARSE, edited), self.site.tree, "build")

    def timed_files(self, source: str, function: str) -> dict[str, str] | None:
        """The file with `function` rebound to a timed wrapper right after its definition (so recursion, other
        module code and methods all go through it), and the timer module on the import path."""
        try:
            span = find_function(source, self.spec.name, name=function)
        except FunctionNotFound:
            return None
        data = source.encode("utf-8")
        line_end = data.find(b"\n", span.end_byte)
        cut = len(data) if line_end < 0 else line_end + 1
        rebind = f"{span.indent}{span.name} = __import__('_perforch_timer').timed({span.name})\n"
        timed = data[:cut].decode("utf-8") + ("" if line_end >= 0 else "\n") + rebind + data[cut:].decode("utf-8")
        timer = str(_import_root(self.site.root, self.site.file) / "_perforch_timer.py")
        return {self.site.file: timed, timer: _TIMER.read_text()}

    def doc_test(self, span: FunctionSpan, examples: Sequence[Example]) -> GeneratedTest:
        module = _module_name(self.site.root, self.site.file)
        # Examples may use the module's other names too; the function itself may be private.
        lines = [f"from {module} import *  # noqa: F403", f"from {module} import {span.container or span.name}", ""]
        for number, example in enumerate(examples, 1):
            lines += [
                "",
                f"def test_doc_example_{number}():",
                f"    assert ({example.call}) == ({example.expected})",
                "",
            ]
        cases = tuple(TestCase(_DOC_TEST_FILE, f"test_doc_example_{n}") for n in range(1, len(examples) + 1))
        return GeneratedTest({_DOC_TEST_FILE: "\n".join(lines)}, cases)


def _import_root(root: Path, relative: str) -> Path:
    """The directory (relative to `root`) the edited module is imported from: above its outermost package."""
    directory = Path(relative).parent
    while directory != Path(".") and (root / directory / "__init__.py").exists():
        directory = directory.parent
    return directory


def _module_name(root: Path, relative: str) -> str:
    path = Path(relative)
    parts = path.with_suffix("").relative_to(_import_root(root, relative)).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PROJECT = PythonProject
