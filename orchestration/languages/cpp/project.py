"""C++: a CMake project with GoogleTest, configured once into a build dir that persists beside the shadow
copy; a candidate is `cmake --build` (incremental) then `ctest -R <the selected tests>`. A folder without
CMake (a perforch.toml marks its root) has its GoogleTest files compiled by g++ with the edited file.

Doc-comment examples become a GoogleTest file that includes the edited source file, compiled with that
file's own flags from the compile database CMake writes, and linked with gtest_main.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from tree_sitter import Node

from ...stubs import FunctionSpan
from ...stubs.trees import Parsed
from ...workspace.docexamples import Example
from ...workspace.project import Command, GeneratedTest, Plan, ProjectLanguage, TestCase, tool
from . import SPEC, timer

_TEST_MACRO = re.compile(r"^(TEST|TEST_F|TEST_P|TYPED_TEST|TYPED_TEST_P)$")
_DOC_SUITE = "PerforchDocExamples"
_DOC_TEST_FILE = "perforch_doc_examples_test.cpp"
_GTEST_LIBRARIES = ("-lgtest_main", "-lgtest", "-pthread")
# Flags of a compile command that name its input and output; the doc test brings its own.
_INPUT_OUTPUT_FLAGS = {"-o", "-c", "-MF", "-MT", "-MQ"}


class CMakeProject(ProjectLanguage):
    spec = SPEC
    project_kind = "CMake project"
    markers = ("CMakeLists.txt",)
    tools = ("cmake", "ctest")
    install_hint = "install CMake 3.21 or newer and GoogleTest (Debian: apt-get install cmake libgtest-dev)"
    runner_name = "ctest"
    whole_suite_name = "ctest"
    failure_start = re.compile(r"^.*: Failure$", re.MULTILINE)

    @classmethod
    def outermost_root(cls, directory: Path) -> Path:
        """Subdirectories have CMakeLists.txt of their own; the project is configured from the top one."""
        while (directory.parent / "CMakeLists.txt").is_file() and directory.parent != directory:
            directory = directory.parent
        return directory

    @classmethod
    def for_root(cls, root: Path) -> type[ProjectLanguage]:
        return cls if cls.has_marker(root) else GxxTestFiles

    @property
    def build_dir(self) -> Path:
        return self.site.cache / "cmake-build"

    def build_outputs(self) -> tuple[Path, ...]:
        return (self.build_dir,)

    def test_outputs(self) -> tuple[Path, ...]:
        return (self.build_dir / "Testing",)  # ctest's logs

    def fetch(self) -> Iterable[Command]:
        # Configuring may download (FetchContent), so it is done here, once, with the network.
        generator = (
            ("-G", "Ninja") if shutil.which("ninja") and not (self.build_dir / "CMakeCache.txt").exists() else ()
        )
        configure = (
            tool("cmake"),
            "-S",
            str(self.site.tree),
            "-B",
            str(self.build_dir),
            *generator,
            "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
        )
        return [Command(configure, self.site.tree, "build")]

    def warm(self) -> list[Command]:
        return [self._build()]

    def _build(self) -> Command:
        return Command((tool("cmake"), "--build", str(self.build_dir)), self.site.tree, "build")

    def is_test_file(self, relative: str, text: str) -> bool:
        return re.search(r"\b(TEST|TEST_F|TEST_P)\s*\(", text) is not None

    def test_case(self, parsed: Parsed, function: Node, relative: str) -> TestCase | None:
        declarator = function.child_by_field_name("declarator")
        macro = declarator.child_by_field_name("declarator") if declarator is not None else None
        parameters = declarator.child_by_field_name("parameters") if declarator is not None else None
        if macro is None or parameters is None or not _TEST_MACRO.match(parsed.node_text(macro)):
            return None
        names = [part.strip() for part in parsed.node_text(parameters).strip("()").split(",")]
        return TestCase(relative, names[-1], names[0]) if len(names) == 2 else None

    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        # gtest_discover_tests names tests Suite.Name, with a prefix and a parameter for TEST_P.
        names = "|".join(re.escape(f"{case.suite}.{case.name}") for case in cases)
        return self._ctest(scratch, "-R", f"(^|/)({names})(/|$)")

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        """Every test add_test registered: GoogleTest's, and plain programs (assert, Catch2, doctest)."""
        return self._ctest(scratch)

    def _ctest(self, scratch: Path, *selection: str) -> Plan:
        report = scratch / "ctest.xml"
        ctest = (tool("ctest"), "--test-dir", str(self.build_dir), "--output-on-failure", "--no-tests=error")
        run = Command((*ctest, *selection, "--output-junit", str(report)), self.site.tree)
        return Plan(build=(self._build(),), test=(run,), reports=(report,))

    def timed_files(self, source: str, function: str) -> dict[str, str] | None:
        return timer.timed_files(source, self.site.file, function)

    def doc_test(self, span: FunctionSpan, examples: Sequence[Example]) -> GeneratedTest:
        lines = ["#include <gtest/gtest.h>", f'#include "{self.site.tree / self.site.file}"', ""]
        if span.container:
            lines += [f"using namespace {span.container};", ""]
        for number, example in enumerate(examples, 1):
            lines += [
                f"TEST({_DOC_SUITE}, Example{number}) {{",
                f"    EXPECT_EQ({example.call}, {example.expected});",
                "}",
                "",
            ]
        cases = tuple(TestCase(_DOC_TEST_FILE, f"Example{n}", _DOC_SUITE) for n in range(1, len(examples) + 1))
        return GeneratedTest({_DOC_TEST_FILE: "\n".join(lines)}, cases)

    def plan_generated(self, generated: GeneratedTest, scratch: Path) -> Plan:
        binary, report = scratch / "doc_examples", scratch / "doc_examples.xml"
        source = self.site.tree / next(iter(generated.files))
        compiler, directory = self._compile_command()
        compile_command = (*compiler, str(source), "-o", str(binary), *_GTEST_LIBRARIES)
        run = (str(binary), f"--gtest_output=xml:{report}")
        return Plan(
            build=(Command(compile_command, directory, "build"),),
            test=(Command(run, self.site.tree),),
            reports=(report,),
        )

    def _compile_command(self) -> tuple[list[str], Path]:
        """The edited file's compiler and flags from the compile database (less its input and output),
        and the directory they are relative to."""
        edited = self.site.tree / self.site.file
        try:
            entries = json.loads((self.build_dir / "compile_commands.json").read_text())
        except (OSError, ValueError):
            entries = []
        entry = next((e for e in entries if Path(e["directory"], e["file"]) == edited), None)
        if entry is None:
            return [tool("c++"), "-std=c++17", f"-I{edited.parent}"], self.site.tree
        argv = entry.get("arguments") or shlex.split(entry["command"])
        kept, skip_value = [], False
        for argument in argv:
            if skip_value:
                skip_value = False
            elif argument in _INPUT_OUTPUT_FLAGS:
                skip_value = argument != "-c"
            elif argument not in (entry["file"], str(edited)):
                kept.append(argument)
        return kept, Path(entry["directory"])


class GxxTestFiles(CMakeProject):
    """No CMake: each GoogleTest file that names the function is compiled by g++ together with the edited
    file (unless it includes that file itself) and run with a --gtest_filter of the selected tests."""

    project_kind = "C++ folder"
    needs_marker = False
    tools = ("g++",)
    install_hint = "install g++ and GoogleTest (Debian: apt-get install g++ libgtest-dev)"
    runner_name = "g++ and GoogleTest"
    whole_suite_name = None  # no build system, so no test command of the project's own

    def fetch(self) -> Iterable[Command]:
        return []

    def warm(self) -> list[Command]:
        return []

    def plan_whole_suite(self, scratch: Path) -> Plan | None:
        return None

    def build_outputs(self) -> tuple[Path, ...]:
        return ()  # binaries go to the candidate's scratch dir

    def test_outputs(self) -> tuple[Path, ...]:
        return ()

    def plan(self, cases: Sequence[TestCase], scratch: Path) -> Plan:
        build, test, reports = [], [], []
        for number, path in enumerate(dict.fromkeys(case.path for case in cases)):
            binary, report = scratch / f"test{number}", scratch / f"test{number}.xml"
            compile_command = (tool("g++"), "-std=c++17", *self._include_flags(path), *self._sources(path))
            build.append(Command((*compile_command, "-o", str(binary), *_GTEST_LIBRARIES), self.site.tree, "build"))
            selected = ":".join(f"{case.suite}.{case.name}" for case in cases if case.path == path)
            run = (str(binary), f"--gtest_filter={selected}", f"--gtest_output=xml:{report}")
            test.append(Command(run, self.site.tree))
            reports.append(report)
        return Plan(tuple(build), tuple(test), tuple(reports))

    def _sources(self, test_file: str) -> list[str]:
        edited = Path(self.site.file)
        text = (self.site.tree / test_file).read_text(encoding="utf-8", errors="replace")
        includes_edited = re.search(rf'#include\s*"[^"]*\b{re.escape(edited.name)}"', text) is not None
        return [str(self.site.tree / test_file), *([] if includes_edited else [str(self.site.tree / edited)])]

    def _include_flags(self, test_file: str) -> list[str]:
        """The edited file's and the test's folders, and the root's include/ and src/, where they exist."""
        tree = self.site.tree
        folders = [Path(self.site.file).parent, Path(test_file).parent, Path("."), Path("include"), Path("src")]
        return [f"-I{tree / folder}" for folder in dict.fromkeys(folders) if (tree / folder).is_dir()]


PROJECT = CMakeProject
