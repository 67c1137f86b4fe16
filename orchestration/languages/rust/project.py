"""Rust: `cargo test --offline --no-run` builds, then `cargo test --offline` with the selected tests' names as
filters runs them (cargo finds the build fresh at once), after `cargo fetch` resolved the dependencies once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from tree_sitter import Node

from ...stubs import FunctionSpan
from ...stubs.trees import Parsed, decorated, function_name, leading_items
from ...workspace.docexamples import Example
from ...workspace.project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase, tool
from . import FAILURE_START, SPEC, timer

_TEST_ATTRIBUTE = re.compile(r"^#\[(\w+::)?test\b")
_DOC_TEST_MODULE = "perforch_doc_examples"


class CargoCrate(ProjectLanguage):
    spec = SPEC
    project_kind = "cargo crate"
    markers = ("Cargo.toml",)
    lock_files = ("Cargo.lock",)
    tools = ("cargo",)
    install_hint = "install Rust with cargo (https://rustup.rs)"
    runner_name = "cargo test"
    whole_suite_name = "cargo test"
    failure_start = FAILURE_START
    compile_failure = re.compile(r"^error(\[E\d+\])?: |could not compile", re.MULTILINE)

    @classmethod
    def outermost_root(cls, directory: Path) -> Path:
        """A member crate builds from its cargo workspace's root, which must be in the shadow copy too."""
        for ancestor in directory.parents:
            manifest = ancestor / "Cargo.toml"
            if manifest.is_file() and re.search(r"^\[workspace\]", manifest.read_text(errors="replace"), re.MULTILINE):
                return ancestor
        return directory

    def env(self) -> dict[str, str]:
        return {"CARGO_TERM_COLOR": "never", "CARGO_NET_OFFLINE": "true", "RUST_BACKTRACE": "0"}

    def build_outputs(self) -> tuple[Path, ...]:
        return (self.site.tree / "target",)

    def test_outputs(self) -> tuple[Path, ...]:
        return (self.site.tree / "target" / "debug" / ".cargo-lock",)  # `cargo test` locks the build dir

    def fetch(self) -> Iterable[Command]:
        return [Command((tool("cargo"), "fetch"), self.site.tree, "build", {"CARGO_TERM_COLOR": "never"})]

    def warm(self) -> list[Command]:
        return [Command((tool("cargo"), "test", "--offline", "--no-run"), self.site.tree, "build", self.env())]

    def is_test_file(self, relative: str, text: str) -> bool:
        return "#[" in text and "test" in text

    def test_case(self, parsed: Parsed, function: Node, relative: str) -> TestCase | None:
        attributes = [
            item for item in leading_items(parsed, decorated(function, parsed.syntax)) if item.type == "attribute_item"
        ]
        if not any(_TEST_ATTRIBUTE.match(parsed.node_text(item)) for item in attributes):
            return None
        return TestCase(relative, function_name(function, parsed.syntax))

    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        # libtest takes several filters (substrings of the test's path); --exact would need the module path.
        # Two steps, so a build error is a compile error and an endless test loop meets the test deadline.
        return self._cargo_test(*dict.fromkeys(case.name for case in cases))

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        return self._cargo_test()

    def _cargo_test(self, *filters: str) -> Plan:
        build = Command((tool("cargo"), "test", "--offline", "--no-run"), self.site.tree, "build", self.env())
        test = Command((tool("cargo"), "test", "--offline", "--", *filters), self.site.tree, "test", self.env())
        return Plan(build=(build,), test=(test,))

    def timed_files(self, source: str, function: str) -> dict[str, str] | None:
        return timer.timed_files(source, self.site.file, function)

    def doc_test(self, span: FunctionSpan, examples: Sequence[Example]) -> GeneratedTest:
        tests = []
        for number, example in enumerate(examples, 1):
            tests += [
                "    #[test]",
                f"    fn example_{number}() {{",
                f"        assert_eq!({example.call}, {example.expected});",
                "    }",
            ]
        appendix = "\n".join(
            [
                "",
                "#[cfg(test)]",
                f"mod {_DOC_TEST_MODULE} {{",
                "    #[allow(unused_imports)]",
                "    use super::*;",
                *tests,
                "}",
                "",
            ]
        )
        cases = (TestCase(self.site.file, f"{_DOC_TEST_MODULE}::"),)
        return GeneratedTest({}, cases, appendix)


PROJECT = CargoCrate
