"""The vocabulary every part of the engine shares: tasks, programs, verdicts and timings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from enum import Enum

from .errors import PerfOrchError

LANGUAGES: tuple[str, ...] = ("python", "java", "cpp", "go", "rust")
STAGES: tuple[str, ...] = ("categorize", "generate", "debug", "refine")
ANY_CATEGORY = "*"  # a language's overall row, over every category of problem


class UnsupportedLanguage(PerfOrchError):
    def __init__(self, language: str) -> None:
        super().__init__(f"unsupported language {language!r}: PerfOrch supports {', '.join(LANGUAGES)}")
        self.language = language


def check_language(language: str) -> str:
    """Normalise a language name ("C++" -> "cpp") or raise UnsupportedLanguage."""
    name = language.strip().lower()
    name = {"c++": "cpp", "cxx": "cpp", "golang": "go", "py": "python", "rs": "rust"}.get(name, name)
    if name not in LANGUAGES:
        raise UnsupportedLanguage(language)
    return name


_EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".h": "cpp",
}


def language_of_path(path: str) -> str:
    """The language of a source file, from its extension; UnsupportedLanguage otherwise."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix not in _EXTENSIONS:
        raise UnsupportedLanguage(suffix or path)
    return _EXTENSIONS[suffix]


@dataclass(frozen=True)
class Task:
    """One function to write.

    `source` is the whole file with the stub in place; the model's answer is spliced into it.
    `visible_test` is the only test the pipeline may run and show to models (never the hidden one).
    """

    language: str
    entry_point: str
    source: str
    visible_test: str
    test_setup: str = ""
    task_id: str = ""


@dataclass(frozen=True)
class Program:
    """A complete candidate program as a toolchain receives it: solution file plus test code."""

    language: str
    source: str
    test: str
    test_setup: str = ""


class Outcome(str, Enum):
    PASSED = "passed"
    COMPILE_ERROR = "compile_error"
    TEST_FAILED = "test_failed"  # an assertion failed or the program crashed
    TIMEOUT = "timeout"
    RESOURCE_LIMIT = "resource_limit"  # memory, output size or process count exceeded
    INVALID = "invalid"  # no usable candidate: unparsable answer, wrong language, splice refused


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    diagnostics: str = ""  # trimmed compiler / test output, safe to show a model
    seconds: float = 0.0  # wall time from candidate to verdict
    tests_run: int | None = None  # None when the runner does not say; never claim a pass when 0 ran
    tests_passed: int | None = None
    tests_source: str = ""  # what was run, e.g. "pytest tests/test_core.py -k count_vowels"

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


@dataclass(frozen=True)
class Timing:
    """CPU seconds (user + sys, from rusage) of repeated test runs after warm-up."""

    cpu_seconds: tuple[float, ...] = field(default_factory=tuple)

    @property
    def median(self) -> float:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else 0.0


@dataclass(frozen=True)
class Limits:
    wall_seconds: float = 10.0  # one run of the tests
    memory_mb: int = 1024
    output_bytes: int = 8 * 1024 * 1024  # also the largest file the program may write
    processes: int = 64  # processes and threads of the tested program
    build_seconds: float = 60.0  # compiling; separate because a cold compiler cache is slow, not wrong
