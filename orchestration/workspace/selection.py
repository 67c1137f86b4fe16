"""Which tests check a function: the [tests] command if the user set one, else the workspace's tests
that name it, else its doc comment's examples turned into a test, else the project's whole test command
when something in the project calls the function (a test its language's discovery does not recognise, a
caller that tests reach), else none (and then no verdict passes).

Doc examples come before the whole suite: they are about this function, and fast; the whole suite
can only show the function breaks nothing its tests reach. A function nothing calls is never given the
whole suite: any version would pass it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..stubs import FunctionNotFound, FunctionSpan, find_function
from .docexamples import doc_examples
from .errors import WorkspaceError
from .project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase
from .shadow import source_files
from .testcases import tests_mentioning

DOC_EXAMPLES = "doc-comment examples"
WHOLE_SUITE = "the project's whole test command"


@dataclass(frozen=True)
class Selection:
    cases: tuple[TestCase, ...] = ()
    generated: GeneratedTest | None = None
    command: str | None = None  # [tests] command, run by the shell in the workspace root
    whole_suite: bool = False  # the language's own test command, every test of the project
    source: str = ""  # what runs, for Verdict.tests_source; "" when nothing does

    @property
    def empty(self) -> bool:
        return not (self.cases or self.generated or self.command or self.whole_suite)

    def plan(self, language: ProjectLanguage, scratch: Path) -> Plan:
        if self.command is not None:
            shell = Command(("/bin/sh", "-c", self.command), language.site.tree, "build+test", language.env())
            return Plan(build=(), test=(shell,))
        whole = language.plan_whole_suite(scratch) if self.whole_suite else None
        if whole is not None:
            return whole
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
    if examples:
        generated = language.doc_test(span, examples)
        count = f"{len(examples)} example{'s' if len(examples) > 1 else ''}"
        return Selection(generated=generated, source=f"{DOC_EXAMPLES} ({count} of {function}, no test names it)")
    if language.whole_suite_name is not None and _called_elsewhere(language, span):
        return Selection(
            whole_suite=True, source=f"{WHOLE_SUITE}: {language.whole_suite_name}; no test names {function}"
        )
    return Selection()


def nothing_to_run(function: str) -> str:
    return (
        f"no test exercises `{function}`, nothing in the project calls it, and its doc comment has no examples, "
        f"so nothing can show it works: add a test that calls it, a doc example such as "
        f"`{function}(...) == expected`, or a [tests] command in perforch.toml"
    )


def _called_elsewhere(language: ProjectLanguage, span: FunctionSpan) -> bool:
    """Whether a source file of the project names the function outside its own definition and doc comment."""
    mention = re.compile(rf"\b{re.escape(span.name)}\b")
    root = language.site.root
    for relative in source_files(root):
        if not relative.endswith(language.spec.suffixes):
            continue
        try:
            text = (root / relative).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if relative == language.site.file:  # where the function's own definition and doc name it
            for own in filter(None, (span.text, span.doc)):
                text = text.replace(own, "", 1)
        if mention.search(text):
            return True
    return False


def _function(language: ProjectLanguage, function: str) -> FunctionSpan:
    path = language.site.root / language.site.file
    try:
        return find_function(path.read_text(encoding="utf-8"), language.spec.name, name=function)
    except FunctionNotFound:
        raise WorkspaceError(f"{path}: no function `{function}`") from None
