"""LanguageSpec: what the rest of the engine knows about one language.

A language is one package under `languages/`: its `__init__` holds the LanguageSpec (the facts below),
and its modules hold its code, each exporting one name the spec loads on first use (the timers and harness
sources beside them are its own, used by its project.py and values.py):

    syntax.py     SYNTAX     tree-sitter vocabulary and stub markers (a stubs.syntax.Syntax)
    benchmark.py  TOOLCHAIN  how a benchmark Program is assembled, built and judged (a checking Toolchain)
    effibench.py  program    how an EffiBench-X answer becomes a whole program (in its problem's runner)
    project.py    PROJECT    how a project's tests are found, selected and run (a workspace ProjectLanguage)
    values.py     (module)   typed values: declarations parsed, literals, visible tests, the timing harness
                             (Java, C++, Go, Rust; see efficiency/values.py)

Loading them lazily keeps a Python-only run from importing four grammars and four toolchains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..checking.toolchain import Toolchain
    from ..stubs.syntax import Syntax
    from ..workspace.project import ProjectLanguage


def _no_head(row: Mapping[str, str]) -> str:
    return ""


@dataclass(frozen=True)
class LanguageSpec:
    package: str  # the language's package (its __name__), where syntax, benchmark and project live
    name: str  # the id in configs, profiles, benchmark files and messages to tools: "cpp"
    display_name: str  # as people write it: "C++"
    aliases: tuple[str, ...]  # other names users write for it, lower-case: "c++", "cxx"
    suffixes: tuple[str, ...]  # of its source files, the usual one first
    fence_tags: frozenset[str]  # markdown info strings that mean this language

    # -- running its programs (both modes) --------------------------------------------------------------
    out_of_memory: tuple[str, ...]  # what its runtime prints when an allocation fails

    # -- HumanEval-X benchmark programs -----------------------------------------------------------------
    stub_closer: str  # closes a prompt (which stops after the opening brace) into a stub file that parses
    # The documented substitute for a missing `example_test`: a test that only proves the program builds
    # and loads. It never reveals the hidden test, at the price of finding only compile and load errors.
    build_only_test: str
    prompt_head: Callable[[Mapping[str, str]], str] = _no_head  # what goes above the dataset's prompt

    # -- workspaces --------------------------------------------------------------------------------------
    doc_comment_openers: tuple[str, ...] = ()  # markup that starts a line of a doc comment or docstring
    doc_comment_closers: tuple[str, ...] = ()  # markup that ends one
    skipped_dirs: frozenset[str] = frozenset()  # caches and environments of its tools: never mirrored
    copied_files: frozenset[str] = frozenset()  # files its tools rewrite in place: mirrored as copies
    build_outputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # dir -> manifests beside it
    build_dir_markers: tuple[str, ...] = ()  # a directory holding one of these is a build dir

    # -- timing and EffiBench-X --------------------------------------------------------------------------
    jit_warmups: int = 0  # untimed calls a timed harness run makes at least, for a JIT to reach its top tier
    # Short runs each version's timing harness makes, versions taking turns (efficiency/typed_harness.py):
    # a process's memory layout and a spell of load weigh on a few calls, not all (efficiency_noise.py).
    timing_rounds: int = 15
    effibench_key: str = ""  # its key in an EffiBench-X record ("golang"), when not its name
    effibench_runners: bool = True  # whether the data has its functional runners (else effibench.py says why)

    @property
    def syntax(self) -> Syntax:
        return _load(self.package, "syntax", "SYNTAX")

    def toolchain(self) -> type[Toolchain]:
        """The class of its benchmark toolchain."""
        return _load(self.package, "benchmark", "TOOLCHAIN")

    def project(self) -> type[ProjectLanguage]:
        """The class of its workspace projects (ProjectLanguage.for_root picks a variant)."""
        return _load(self.package, "project", "PROJECT")

    def effibench_program(self) -> Callable[[str, str, str | None, str], str]:
        """Its EffiBench-X assembler, languages/<lang>/effibench.py's `program(kind, solution, runner, marker)`."""
        return _load(self.package, "effibench", "program")

    def values(self) -> Any:
        """Its typed-values module (languages/<lang>/values.py): parse_signature, literal, visible_test,
        harness_source; ModuleNotFoundError for a language without one (Python: values are native)."""
        return import_module(f"{self.package}.values")

    @property
    def described(self) -> str:
        """`C++ .cpp/.cc`: the language with its suffixes, for messages."""
        return f"{self.display_name} {'/'.join(self.suffixes)}"


@cache
def _load(package: str, module: str, name: str) -> Any:
    return getattr(import_module(f"{package}.{module}"), name)
