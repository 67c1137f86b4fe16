"""Go: the module's test binaries built by `go test -c` (offline, from the module cache `go mod download`
filled), then run directly, so a build failure and a test failure are told apart and timed apart."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from tree_sitter import Node

from ...stubs import FunctionSpan
from ...stubs.trees import Parsed, function_name
from ...workspace.docexamples import Example
from ...workspace.project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase, tool
from ...workspace.shadow import source_files
from . import FAILURE_START, SPEC, timer

_TEST_FUNCTION = re.compile(r"^Test[A-Z0-9_]")
_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)
_SCALAR = re.compile(r'^(-?[\d.]+|"(?:[^"\\]|\\.)*"|`[^`]*`|true|false|nil|\'.+\')$')
_DOC_TEST_FILE = "perforch_doc_examples_test.go"


class GoModule(ProjectLanguage):
    spec = SPEC
    project_kind = "Go module"
    markers = ("go.mod",)
    lock_files = ("go.sum",)
    tools = ("go",)
    install_hint = "install Go 1.21 or newer (https://go.dev/doc/install)"
    runner_name = "go test"
    whole_suite_name = "go test ./..."
    failure_start = FAILURE_START

    def env(self) -> dict[str, str]:
        # -mod=mod: a go.sum entry missing is added from the module cache rather than failing the build.
        # GOCACHE named: its default follows HOME, which the sandbox points at a scratch dir.
        offline = {"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local", "GOWORK": "off"}
        return {**offline, "GOTELEMETRY": "off", "GOCACHE": str(_build_cache())}

    def build_outputs(self) -> tuple[Path, ...]:
        return (_build_cache(), self.site.cache / "go-test-binaries")

    def fetch(self) -> Iterable[Command]:
        online = {**self.env(), "GOPROXY": "https://proxy.golang.org,direct"}
        return [Command((tool("go"), "mod", "download"), self.site.tree, "build", online)]

    def warm(self) -> list[Command]:
        """Every test binary built once, at the path candidates build it to: their build then links
        only what changed."""
        packages = sorted(
            {str(Path(relative).parent) for relative in source_files(self.site.tree) if relative.endswith("_test.go")}
        )
        return [self._build(package) for package in packages]

    def _build(self, package: str) -> Command:
        argv = (tool("go"), "test", "-c", "-o", str(self._binary(package)), f"./{package}")
        return Command(argv, self.site.tree, "build", self.env())

    def _binary(self, package: str) -> Path:
        # One path per package across candidates: go skips the link when the binary there is up to date.
        name = "module-root" if package == "." else package.replace("/", "__")
        return self.site.cache / "go-test-binaries" / f"{name}.test"

    def is_test_file(self, relative: str, text: str) -> bool:
        return relative.endswith("_test.go")

    def test_case(self, parsed: Parsed, function: Node, relative: str) -> TestCase | None:
        name = function_name(function, parsed.syntax)
        if function.type != "function_declaration" or not _TEST_FUNCTION.match(name):
            return None
        return TestCase(relative, name, str(Path(relative).parent))

    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        packages = list(dict.fromkeys(case.suite or "." for case in cases))
        test = []
        for package in packages:
            names = "|".join(re.escape(case.name) for case in cases if (case.suite or ".") == package)
            run = (str(self._binary(package)), "-test.v", "-test.count=1", "-test.run", f"^({names})$")
            test.append(Command(run, self.site.tree / package, "test", self.env()))
        return Plan(tuple(self._build(package) for package in packages), tuple(test))

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        # Building every package's tests first (running none) tells a build failure from a failing test.
        go_test = (tool("go"), "test", "-count=1")
        build = Command((*go_test, "-run", "^$", "./..."), self.site.tree, "build", self.env())
        return Plan(build=(build,), test=(Command((*go_test, "-v", "./..."), self.site.tree, "test", self.env()),))

    def timed_files(self, source: str, function: str) -> dict[str, str] | None:
        return timer.timed_files(source, self.site.file, function)

    def doc_test(self, span: FunctionSpan, examples: Sequence[Example]) -> GeneratedTest:
        package_dir = Path(self.site.file).parent
        source = (self.site.root / self.site.file).read_text(encoding="utf-8")
        package = _PACKAGE.search(source)
        lines = [f"package {package.group(1) if package else 'main'}", "", 'import (\n\t"reflect"\n\t"testing"\n)', ""]
        for number, example in enumerate(examples, 1):
            lines += [f"func TestPerforchDocExample{number}(t *testing.T) {{", *_check(example), "}", ""]
        lines.append("var _ = reflect.DeepEqual // used only by some examples\n")
        relative = str(package_dir / _DOC_TEST_FILE)
        cases = tuple(
            TestCase(relative, f"TestPerforchDocExample{n}", str(package_dir)) for n in range(1, len(examples) + 1)
        )
        return GeneratedTest({relative: "\n".join(lines)}, cases)


def _build_cache() -> Path:
    """Go's build cache, where `go env GOCACHE` would say: filled by the go tool only, keyed by content."""
    configured = os.environ.get("GOCACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "go-build"


def _check(example: Example) -> list[str]:
    """`!=` against an untyped constant takes the function's result type; composite values need DeepEqual."""
    message = f'\t\tt.Errorf("%s = %#v, want %s", {_go_string(example.call)}, got, {_go_string(example.expected)})'
    if _SCALAR.match(example.expected):
        return [f"\tif got := {example.call}; got != {example.expected} {{", message, "\t}"]
    return [f"\tif got, want := {example.call}, {example.expected}; !reflect.DeepEqual(got, want) {{", message, "\t}"]


def _go_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


PROJECT = GoModule
