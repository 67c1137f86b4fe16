"""Which tests check a function: the [tests] command if the user set one, else the workspace's tests
that name it, else its doc comment's examples turned into a test, else none (and then no verdict passes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..stubs import FunctionNotFound, FunctionSpan, find_function
from .docexamples import doc_examples
from .errors import WorkspaceError
from .project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase
from .testcases import tests_mentioning

DOC_EXAMPLES = "doc-comment examples"


@dataclass(frozen=True)
class Selection:
    cases: tuple[TestCase, ...] = ()
    generated: GeneratedTest | None = None
    command: str | None = None  # [tests] command, run by the shell in the workspace root
    source: str = ""  # what runs, for Verdict.tests_source; "" when nothing does

    @property
    def empty(self) -> bool:
        return not (self.cases or self.generated or self.command)

    def plan(self, language: ProjectLanguage, scratch: Path) -> Plan:
        if self.command is not None:
            shell = Command(("/bin/sh", "-c", self.command), language.site.tree, "build+test", language.env())
            return Plan(build=(), test=(shell,))
        if self.generated is not None:
            return language.plan_generated(self.generated, scratch)
        return language.plan(self.cases, scratch)


def select_tests(language: ProjectLanguage, function: str, tests_command: str | None) -> Selection:
    if tests_command is not None:
        return Selection(command=tests_command, source=f"[tests] command: {tests_command}")
    cases = tests_mentioning(language.site.root, language, function)
    if cases:
        return Selection(cases=tuple(cases), source=language.describe(cases))
    span = _function(language, function)
    examples = doc_examples(span.doc, span.name)
    if not examples:
        return Selection()
    generated = language.doc_test(span, examples)
    count = f"{len(examples)} example{'s' if len(examples) > 1 else ''}"
    return Selection(generated=generated, source=f"{DOC_EXAMPLES} ({count} of {function}, no test names it)")


def nothing_to_run(function: str) -> str:
    return (
        f"no test exercises `{function}` and its doc comment has no examples, so nothing can show it works: "
        f"add a test that calls it, a doc example such as `{function}(...) == expected`, or a [tests] command "
        "in perforch.toml"
    )


def _function(language: ProjectLanguage, function: str) -> FunctionSpan:
    path = language.site.root / language.site.file
    try:
        return find_function(path.read_text(encoding="utf-8"), language.spec.name, name=function)
    except FunctionNotFound:
        raise WorkspaceError(f"{path}: no function `{function}`") from None
