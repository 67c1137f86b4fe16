"""What a workspace's language tells the rest: its project files, its tests, and the commands that
prepare the project, build a candidate, run the selected tests and time them.

A language object belongs to one workspace (`Site`), so it may keep what it learnt while preparing
(the interpreter of a venv, a CMake build dir). It only says what to run; running is done elsewhere.
"""

from __future__ import annotations

import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tree_sitter import Node

from ..stubs import FunctionSpan
from ..stubs.trees import Parsed, function_nodes
from .docexamples import Example
from .errors import WorkspaceError

if TYPE_CHECKING:
    from ..languages import LanguageSpec


@dataclass(frozen=True)
class Site:
    """Where one workspace lives: the user's root, its mirror, and a cache dir for build dirs."""

    root: Path  # the user's workspace root (read only)
    tree: Path  # the shadow copy, where everything runs
    cache: Path  # the workspace's cache dir (holds `tree`, build dirs)
    file: str  # the edited file, relative to the root


@dataclass(frozen=True)
class TestCase:
    """One test as its runner names it; `suite` is the class, Go package dir or gtest suite, if any."""

    path: str  # the test's file, relative to the root
    name: str
    suite: str | None = None


@dataclass(frozen=True)
class Command:
    """One step. `phase` picks its deadline: "build" (Limits.build_seconds), "test" (wall_seconds),
    or "build+test" for a tool that builds and then tests in one go (mvn test, cargo test)."""

    argv: tuple[str, ...]
    cwd: Path
    phase: str = "test"
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """How to check a candidate: build steps (a failure is a compile error), then the test steps."""

    build: tuple[Command, ...]
    test: tuple[Command, ...]
    reports: tuple[Path, ...] = ()  # JUnit XML files or dirs the test steps write
    timed: tuple[Command, ...] | None = None  # what measure() times; the test steps when None

    @property
    def timed_steps(self) -> tuple[Command, ...]:
        return self.test if self.timed is None else self.timed


@dataclass(frozen=True)
class GeneratedTest:
    """Doc-comment examples turned into a test in the language: files to add to the shadow copy,
    code to append to the candidate file (Rust keeps its unit tests there), the cases to select."""

    files: Mapping[str, str]
    cases: tuple[TestCase, ...]
    appendix: str = ""


class ProjectLanguage(ABC):
    spec: LanguageSpec  # the language's names, suffixes and out-of-memory messages
    project_kind: str  # "Go module", in messages
    markers: tuple[str, ...]  # files that mark a project root
    lock_files: tuple[str, ...] = ()  # beside the markers, what decides the dependencies fetch() resolves
    tools: tuple[str, ...] = ()  # programs that must be on PATH
    install_hint: str = ""
    runner_name = "tests"  # what runs the tests, in Verdict.tests_source
    needs_marker = True  # False when the tests run without a project file (pytest)
    failure_start: re.Pattern[str] | None = None  # where a failing run's useful output starts
    compile_failure: re.Pattern[str] | None = None  # a test step's output when building or importing failed
    # A fetch's output when the network (or a registry) was the problem, not the project.
    network_failure: re.Pattern[str] | None = None
    # An offline step's output when something the one-time fetch should have brought is missing (group 1 names it).
    missing_offline: re.Pattern[str] | None = None
    whole_suite_name: str | None = None  # the project's own whole test command, as a user would type it

    def __init__(self, site: Site) -> None:
        self.site = site

    # -- the project ---------------------------------------------------------------------------------

    @classmethod
    def has_marker(cls, directory: Path) -> bool:
        return any((directory / marker).is_file() for marker in cls.markers)

    @classmethod
    def outermost_root(cls, directory: Path) -> Path:
        return directory

    @classmethod
    def for_root(cls, root: Path) -> type[ProjectLanguage]:
        """The variant that fits the project at `root` (C++ with or without CMake)."""
        return cls

    def check_tools(self) -> None:
        missing = [tool for tool in self.tools if shutil.which(tool) is None]
        if missing:
            raise WorkspaceError(f"{', '.join(missing)} not found on PATH: {self.install_hint}")

    def fetch(self) -> Iterable[Command]:
        """Trusted steps with the network, run once before any candidate: resolve dependencies. They run
        as they come, so a generator may decide on a later step from what an earlier one wrote."""
        return []

    def warm(self) -> list[Command]:
        """Offline steps that fill the build caches, so the first candidate builds incrementally."""
        return []

    def env(self) -> dict[str, str]:
        """Variables every offline step gets on top of the user's environment."""
        return {}

    def fetch_failure(self, output: str) -> str:
        """Why a fetch step failed, in a sentence that says what to do; the tool's error follows it."""
        if self.network_failure is not None and self.network_failure.search(output):
            return (
                "could not download what the project needs (the network is needed once, to resolve its "
                "dependencies; later runs are offline): check the network, and any proxy, mirror or "
                "repository credentials"
            )
        return "the project's own toolchain failed while preparing it: fix the error below, then run again"

    def plain_output(self, output: str) -> str:
        """A tool's output without the boilerplate it adds to every failure."""
        return output

    def build_outputs(self) -> tuple[Path, ...]:
        """Dirs the build steps write (kept across candidates: builds stay incremental); the steps that
        run a candidate's code see them read-only."""
        return ()

    def test_outputs(self) -> tuple[Path, ...]:
        """What the steps that run a candidate's code write besides its scratch dir: each candidate gets
        its own copy of these (dirs, or a lock file), so nothing it writes reaches the next one."""
        return ()

    def timed_files(self, source: str, function: str) -> dict[str, str] | None:
        """The files to write instead of the candidate `source` so that each outermost call the tests make to
        `function` records its own duration, arguments and result in the file $PERFORCH_CALLS names (see
        workspace/calls.py); None when this language, or this function, cannot be timed that way."""
        return None

    # -- tests ---------------------------------------------------------------------------------------

    @abstractmethod
    def is_test_file(self, relative: str, text: str) -> bool: ...

    def test_cases(self, parsed: Parsed, relative: str) -> list[tuple[TestCase, str]]:
        """The tests of a test file, each with its code. By default its functions that test_case() takes;
        a language whose tests are calls (`test("name", () => ...)`) looks for those instead."""
        found = []
        for _, function in function_nodes(parsed.root, parsed.syntax):
            case = self.test_case(parsed, function, relative)
            if case is not None:
                found.append((case, parsed.node_text(function)))
        return found

    @abstractmethod
    def test_case(self, parsed: Parsed, function: Node, relative: str) -> TestCase | None:
        """The test that this function of a test file is, or None when it is not a test."""

    @abstractmethod
    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        """Build and run exactly `cases`; reports go below `scratch` (a fresh dir per candidate)."""

    @abstractmethod
    def doc_test(self, span: FunctionSpan, examples: Sequence[Example]) -> GeneratedTest: ...

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        """The project's own whole test command (for a function no test can be attributed to); None when
        the language has none."""
        return None

    def plan_generated(self, generated: GeneratedTest, scratch: Path) -> Plan:
        """How to run a generated test: by default like any other selection."""
        return self.plan(generated.cases, scratch)

    def describe(self, cases: Sequence[TestCase]) -> str:
        """What ran, for Verdict.tests_source."""
        shown = ", ".join(f"{case.path}::{case.name}" for case in cases[:4])
        more = f" and {len(cases) - 4} more" if len(cases) > 4 else ""
        return f"{self.runner_name}: {shown}{more}"


def tool(name: str) -> str:
    """The full path of a program on PATH (the sandbox's launcher does not search PATH)."""
    return shutil.which(name) or name
