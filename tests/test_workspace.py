"""Workspace mode with the real toolchains, on copies of examples/: test discovery, verdicts and counts,
doc-comment examples as tests, the [tests] override, timeouts, timing, and the user's files untouched."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from perforch.orchestration.checking.diagnostics import compiler_excerpt
from perforch.orchestration.config import CommandSettings, Config
from perforch.orchestration.task import Limits, Outcome
from perforch.orchestration.validation import is_faster
from perforch.orchestration.workspace import DOC_EXAMPLES, ShadowTree, Workspace, WorkspaceError, workspace_root
from perforch.orchestration.workspace.docexamples import Example, doc_examples
from process_watch import unique_marker, wait_until_gone

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LIMITS = Limits(wall_seconds=20, build_seconds=120)
MARKER = unique_marker()  # in every workspace's path, so its processes can be found by their cwd


@dataclass(frozen=True)
class Sample:
    """One example workspace, and the edits the tests make to its edited file."""

    file: str
    stub: str  # the function with a stub body
    stub_body: str
    correct_body: str
    slow: str  # the quadratic function
    stub_says: str  # what a failing run of the stub shows
    counter: str  # an added function that no test names, with a doc example
    counter_code: str
    insert_before: str | None  # where the added function goes (None: the end of the file)
    package_line: str = ""  # Go: the counter's import goes after it
    linear: tuple[tuple[str, str], ...] = ()  # edits that make the slow function linear
    # An edit to a test file of the copy: a workload heavy enough that timing it stands out from a
    # runner's start-up even on a busy machine (pytest takes most of a second to start).
    heavier: tuple[str, str, str] | None = None


def _code(*lines: str) -> str:
    return "\n".join(lines) + "\n"


WORKSPACES = {
    "python": Sample(
        file="textstats/core.py",
        stub="count_vowels",
        stub_body="    raise NotImplementedError",
        correct_body='    return sum(ch in "aeiouAEIOU" for ch in text)',
        slow="has_duplicates",
        linear=(
            (
                _code(
                    "    for i in range(len(values)):",
                    "        for j in range(len(values)):",
                    "            if i != j and values[i] == values[j]:",
                    "                return True",
                    "    return False",
                ),
                _code("    return len(set(values)) != len(values)"),
            ),
        ),
        stub_says="NotImplementedError",
        heavier=("tests/test_core.py", "range(3000)", "range(5000)"),
        counter="count_words",
        counter_code=_code(
            "",
            "",
            "def count_words(text: str) -> int:",
            '    """Count the words.',
            "",
            '    >>> count_words("a bb ccc")',
            "    3",
            '    """',
            "    return len(text.split())",
        ),
        insert_before=None,
    ),
    "java": Sample(
        # JVM and JUnit start-up cost ~0.8 s of CPU per run: the quadratic work must clearly outweigh it.
        heavier=("src/test/java/example/TextStatsTest.java", "i < 10000", "i < 25000"),
        file="src/main/java/example/TextStats.java",
        stub="countVowels",
        stub_body='        throw new UnsupportedOperationException("TODO");',
        correct_body=(
            '        int n = 0; for (char c : text.toCharArray()) if ("aeiouAEIOU".indexOf(c) >= 0) n++; return n;'
        ),
        slow="hasDuplicates",
        linear=(
            (
                _code(
                    "        for (int i = 0; i < values.size(); i++) {",
                    "            for (int j = 0; j < values.size(); j++) {",
                    "                if (i != j && values.get(i).equals(values.get(j))) {",
                    "                    return true;",
                    "                }",
                    "            }",
                    "        }",
                    "        return false;",
                ),
                _code("        return new java.util.HashSet<>(values).size() != values.size();"),
            ),
        ),
        stub_says="UnsupportedOperationException",
        counter="countWords",
        counter_code=_code(
            '    /** Count the words. countWords("a bb ccc") == 3 */',
            "    public static int countWords(String text) {",
            '        return text.isBlank() ? 0 : text.trim().split("\\\\s+").length;',
            "    }",
            "",
        ),
        insert_before="    /** True if any value occurs more than once. */",
    ),
    "cpp": Sample(
        file="src/textstats.cpp",
        stub="count_vowels",
        stub_body="    // TODO\n    return 0;",
        correct_body=(
            '    int n = 0; for (char c : text) if (std::string("aeiouAEIOU").find(c) != std::string::npos) n++;'
            " return n;"
        ),
        slow="has_duplicates",
        linear=(
            ('#include "textstats.h"', '#include "textstats.h"\n\n#include <unordered_set>'),
            (
                _code(
                    "    for (size_t i = 0; i < values.size(); i++) {",
                    "        for (size_t j = 0; j < values.size(); j++) {",
                    "            if (i != j && values[i] == values[j]) return true;",
                    "        }",
                    "    }",
                    "    return false;",
                ),
                _code("    return std::unordered_set<int>(values.begin(), values.end()).size() != values.size();"),
            ),
        ),
        stub_says="Which is: 0",
        counter="count_words",
        counter_code=_code(
            "/// Count the words.",
            '/// count_words("a bb ccc") == 3',
            "int count_words(const std::string& text) {",
            "    int n = 0; bool in_word = false;",
            "    for (char c : text) { if (c != ' ' && !in_word) n++; in_word = c != ' '; }",
            "    return n;",
            "}",
            "",
        ),
        insert_before="}  // namespace textstats",
    ),
    "go": Sample(
        file="textstats.go",
        stub="CountVowels",
        stub_body='\tpanic("TODO")',
        correct_body=_code(
            "\tn := 0",
            "\tfor _, r := range text {",
            '\t\tif strings.ContainsRune("aeiouAEIOU", r) {',
            "\t\t\tn++",
            "\t\t}",
            "\t}",
            "\treturn n",
        ).rstrip("\n"),
        slow="HasDuplicates",
        linear=(
            (
                _code(
                    "\tfor i := range values {",
                    "\t\tfor j := range values {",
                    "\t\t\tif i != j && values[i] == values[j] {",
                    "\t\t\t\treturn true",
                    "\t\t\t}",
                    "\t\t}",
                    "\t}",
                    "\treturn false",
                ),
                _code(
                    "\tseen := make(map[int]bool, len(values))",
                    "\tfor _, v := range values {",
                    "\t\tif seen[v] {",
                    "\t\t\treturn true",
                    "\t\t}",
                    "\t\tseen[v] = true",
                    "\t}",
                    "\treturn false",
                ),
            ),
        ),
        stub_says="panic: TODO",
        counter="CountWords",
        counter_code=_code(
            "",
            "// CountWords counts the words.",
            '// CountWords("a bb ccc") == 3',
            "func CountWords(text string) int {",
            "\treturn len(strings.Fields(text))",
            "}",
        ),
        insert_before=None,
        package_line="package textstats\n",
    ),
    "rust": Sample(
        file="src/lib.rs",
        stub="count_vowels",
        stub_body="    todo!()",
        correct_body='    text.chars().filter(|c| "aeiouAEIOU".contains(*c)).count()',
        slow="has_duplicates",
        linear=(
            (
                _code(
                    "    for i in 0..values.len() {",
                    "        for j in 0..values.len() {",
                    "            if i != j && values[i] == values[j] {",
                    "                return true;",
                    "            }",
                    "        }",
                    "    }",
                    "    false",
                ),
                _code(
                    "    let mut seen = std::collections::HashSet::with_capacity(values.len());",
                    "    !values.iter().all(|v| seen.insert(*v))",
                ),
            ),
        ),
        stub_says="not yet implemented",
        counter="count_words",
        counter_code=_code(
            "/// Count the words.",
            '/// `count_words("a bb ccc") == 3`',
            "pub fn count_words(text: &str) -> usize {",
            "    text.split_whitespace().count()",
            "}",
            "",
        ),
        insert_before="#[cfg(test)]",
    ),
}


def _with_counter(text: str, example: Sample) -> str:
    if example.package_line:
        text = text.replace(example.package_line, example.package_line + '\nimport "strings"\n', 1)
    if example.insert_before is None:
        return text + example.counter_code
    return text.replace(example.insert_before, example.counter_code + example.insert_before, 1)


@dataclass
class Prepared:
    workspace: Workspace
    example: Sample
    original: bytes  # the edited file as the test left it, before any candidate

    @property
    def text(self) -> str:
        return self.original.decode()

    def correct(self) -> str:
        return self.text.replace(self.example.stub_body, self.example.correct_body, 1)

    def assert_untouched(self) -> None:
        assert self.workspace.file.read_bytes() == self.original


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Shadow copies go to a throwaway cache dir, not the developer's."""
    directory = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PERFORCH_CACHE_DIR", str(directory))
        yield directory


def _copy_example(language: str, parent: Path) -> Path:
    root = parent / f"{language}-{MARKER}"
    shutil.copytree(EXAMPLES / language, root)
    return root


@pytest.fixture(scope="module")
def prepare(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Awaitable[Prepared]]:
    """Each example copied and prepared once per module, on first use: Maven's first resolution is slow."""
    done: dict[str, Prepared] = {}

    async def prepared(language: str) -> Prepared:
        if language not in done:
            example = WORKSPACES[language]
            root = _copy_example(language, tmp_path_factory.mktemp("workspaces"))
            edited = root / example.file
            edited.write_text(_with_counter(edited.read_text(), example))
            if example.heavier is not None:
                test_file, light, heavy = example.heavier
                (root / test_file).write_text((root / test_file).read_text().replace(light, heavy))
            workspace = Workspace.open(edited, Config())
            await workspace.prepare()
            done[language] = Prepared(workspace, example, edited.read_bytes())
        return done[language]

    return prepared


@pytest.fixture(params=list(WORKSPACES))
async def prepared(request: pytest.FixtureRequest, prepare: Callable[[str], Awaitable[Prepared]]) -> Prepared:
    return await prepare(request.param)


# -- the stub, a correct candidate, and the user's file -------------------------------------------------


async def test_the_stub_fails_its_tests_and_says_why(prepared: Prepared) -> None:
    validator = prepared.workspace.validator(prepared.example.stub, LIMITS)

    verdict = await validator.check(prepared.text)

    assert verdict.outcome is Outcome.TEST_FAILED, verdict
    assert verdict.tests_run == 1 and verdict.tests_passed == 0
    assert prepared.example.stub_says in verdict.diagnostics
    assert str(prepared.workspace.shadow.tree) not in verdict.diagnostics
    prepared.assert_untouched()


async def test_a_correct_candidate_passes_the_tests_that_name_the_function(prepared: Prepared) -> None:
    validator = prepared.workspace.validator(prepared.example.stub, LIMITS)
    stat_before = prepared.workspace.file.stat()

    verdict = await validator.check(prepared.correct())

    assert verdict.outcome is Outcome.PASSED, verdict.diagnostics
    assert (verdict.tests_run, verdict.tests_passed) == (1, 1)
    assert DOC_EXAMPLES not in verdict.tests_source and verdict.tests_source
    assert verdict.seconds > 0
    prepared.assert_untouched()
    assert prepared.workspace.file.stat().st_mtime_ns == stat_before.st_mtime_ns


async def test_doc_examples_are_the_tests_when_no_test_names_the_function(prepared: Prepared) -> None:
    validator = prepared.workspace.validator(prepared.example.counter, LIMITS)
    assert validator.tests_source.startswith(DOC_EXAMPLES)

    passing = await validator.check(prepared.text)
    wrong = await validator.check(_broken(prepared))

    assert passing.outcome is Outcome.PASSED, passing.diagnostics
    assert (passing.tests_run, passing.tests_passed) == (1, 1)
    assert passing.tests_source.startswith(DOC_EXAMPLES)
    assert wrong.outcome is Outcome.TEST_FAILED and (wrong.tests_run, wrong.tests_passed) == (1, 0), wrong
    prepared.assert_untouched()


def _broken(prepared: Prepared) -> str:
    """The counter returning one word too many."""
    body = {
        "python": ("return len(text.split())", "return len(text.split()) + 1"),
        "java": (".length;", ".length + 1;"),
        "cpp": ("    return n;\n}\n", "    return n + 1;\n}\n"),
        "go": ("return len(strings.Fields(text))", "return len(strings.Fields(text)) + 1"),
        "rust": ("text.split_whitespace().count()", "text.split_whitespace().count() + 1"),
    }[prepared.workspace.language]
    return prepared.text.replace(*body)


UNBUILDABLE = {
    "python": "    return (",
    "java": "        return undefinedThing;",
    "cpp": "    return undefined_thing;",
    "go": "\treturn undefinedThing",
    "rust": "    undefined_thing",
}


async def test_a_candidate_that_does_not_build_is_a_compile_error(prepared: Prepared) -> None:
    validator = prepared.workspace.validator(prepared.example.stub, LIMITS)
    broken = prepared.text.replace(prepared.example.stub_body, UNBUILDABLE[prepared.workspace.language], 1)

    verdict = await validator.check(broken)

    assert verdict.outcome is Outcome.COMPILE_ERROR, verdict
    assert verdict.tests_run == 0 and not verdict.passed
    assert prepared.workspace.file.name in verdict.diagnostics
    prepared.assert_untouched()


async def test_a_build_failure_is_shown_from_its_first_error_not_the_warnings_before_it(
    prepare: Callable[[str], Awaitable[Prepared]],
) -> None:
    prepared = await prepare("cpp")
    warnings = "".join(f'#warning "warning {n} before the error"\n' for n in range(4))
    broken = prepared.text.replace(prepared.example.stub_body, warnings + UNBUILDABLE["cpp"], 1)

    verdict = await prepared.workspace.validator(prepared.example.stub, LIMITS).check(broken)

    assert verdict.outcome is Outcome.COMPILE_ERROR, verdict
    first_error = verdict.diagnostics.index("error:")
    assert "warning" not in verdict.diagnostics[:first_error], verdict.diagnostics
    # gcc's line naming the function stays: it says where the error is
    assert verdict.diagnostics.startswith("src/textstats.cpp: In function"), verdict.diagnostics
    assert "undefined_thing" in verdict.diagnostics


def test_a_compiler_excerpt_starts_at_the_error_line_after_cargos_warning_summary() -> None:
    output = "\n".join(
        [
            "   Compiling textstats v0.1.0 (/work/textstats)",
            "warning: unused variable: `a`",
            " --> src/lib.rs:6:9",
            "warning: `textstats` (lib) generated 4 warnings",
            "error[E0425]: cannot find value `undefined_thing` in this scope",
            " --> src/lib.rs:7:5",
        ]
    )

    assert compiler_excerpt(output).startswith("error[E0425]: cannot find value `undefined_thing`")


async def test_a_cpp_folder_without_cmake_is_tested_with_g_plus_plus(cache_dir: Path, tmp_path: Path) -> None:
    root = _copy_example("cpp", tmp_path)
    (root / "CMakeLists.txt").unlink()
    (root / "perforch.toml").write_text("")
    sample = WORKSPACES["cpp"]
    stub = (root / sample.file).read_text()
    validator = Workspace.open(root / sample.file, Config()).validator(sample.stub, LIMITS)

    failing = await validator.check(stub)
    passing = await validator.check(stub.replace(sample.stub_body, sample.correct_body))

    assert failing.outcome is Outcome.TEST_FAILED and sample.stub_says in failing.diagnostics
    assert (passing.outcome, passing.tests_run, passing.tests_passed) == (Outcome.PASSED, 1, 1), passing
    assert passing.tests_source == "g++ and GoogleTest: tests/textstats_test.cpp::CountsVowels"


async def test_no_test_and_no_doc_example_is_never_a_pass(prepare: Callable[[str], Awaitable[Prepared]]) -> None:
    prepared = await prepare("python")
    validator = prepared.workspace.validator("has_duplicates", LIMITS)
    prepared.workspace.file.with_name("extra.py").write_text("def undocumented(x):\n    return x\n")
    try:
        lonely = Workspace.open(prepared.workspace.file.with_name("extra.py"), Config())
        verdict = await lonely.validator("undocumented", LIMITS).check("def undocumented(x):\n    return x\n")
    finally:
        prepared.workspace.file.with_name("extra.py").unlink()

    assert validator.tests_source.startswith("pytest: tests/test_core.py::test_has_duplicates")
    assert verdict.outcome is Outcome.INVALID and not verdict.passed
    assert verdict.tests_run == 0 and "no test exercises `undocumented`" in verdict.diagnostics


async def test_the_tests_command_of_perforch_toml_replaces_discovery(
    prepare: Callable[[str], Awaitable[Prepared]],
) -> None:
    prepared = await prepare("python")
    command = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    config = Config(tests=CommandSettings(command))
    validator = Workspace.open(prepared.workspace.file, config).validator("count_vowels", LIMITS)

    failing = await validator.check(prepared.text)
    passing = await validator.check(prepared.correct())

    assert failing.outcome is Outcome.TEST_FAILED and (failing.tests_run, failing.tests_passed) == (2, 1)
    assert passing.outcome is Outcome.PASSED and (passing.tests_run, passing.tests_passed) == (2, 2)
    assert passing.tests_source == f"[tests] command: {command}"
    prepared.assert_untouched()


async def test_candidates_of_one_workspace_take_turns(prepare: Callable[[str], Awaitable[Prepared]]) -> None:
    prepared = await prepare("python")
    validator = prepared.workspace.validator("count_vowels", LIMITS)

    verdicts = await asyncio.gather(validator.check(prepared.correct()), validator.check(prepared.text))

    assert [verdict.outcome for verdict in verdicts] == [Outcome.PASSED, Outcome.TEST_FAILED]


# -- limits and timing ------------------------------------------------------------------------------------

ENDLESS = {
    "python": ("    raise NotImplementedError", "    while True:\n        pass"),
    "go": ('\tpanic("TODO")', "\tfor {\n\t}"),
    "rust": ("    todo!()", "    loop {}"),
}


async def test_a_cancelled_check_stops_its_run_and_puts_the_file_back(
    prepare: Callable[[str], Awaitable[Prepared]],
) -> None:
    prepared = await prepare("python")
    validator = prepared.workspace.validator("count_vowels", LIMITS)
    check = asyncio.create_task(validator.check(prepared.text.replace(*ENDLESS["python"])))
    await asyncio.sleep(2)

    check.cancel()
    with pytest.raises(asyncio.CancelledError):
        await check

    assert wait_until_gone(MARKER) == []
    shadow_file = prepared.workspace.shadow.path(prepared.example.file)
    assert shadow_file.read_bytes() == prepared.original
    assert (await validator.check(prepared.correct())).passed  # the lock was released


@pytest.mark.parametrize("language", list(ENDLESS))
async def test_an_endless_loop_times_out_and_leaves_nothing_running(
    language: str, prepare: Callable[[str], Awaitable[Prepared]]
) -> None:
    prepared = await prepare(language)
    # pytest's start-up is part of a Python test run, and takes seconds on a busy machine.
    wall_seconds = 6 if language == "python" else 3
    validator = prepared.workspace.validator(prepared.example.stub, Limits(wall_seconds=wall_seconds, build_seconds=60))

    verdict = await validator.check(prepared.text.replace(*ENDLESS[language]))

    assert verdict.outcome is Outcome.TIMEOUT, verdict
    assert "longer than" in verdict.diagnostics
    assert wait_until_gone(MARKER) == []
    prepared.assert_untouched()


async def test_measure_finds_the_quadratic_version_slower(prepared: Prepared) -> None:
    validator = prepared.workspace.validator(prepared.example.slow, LIMITS, runs=2)
    linear = prepared.text
    for slow, fast in prepared.example.linear:
        assert slow in linear
        linear = linear.replace(slow, fast, 1)

    quadratic_timing = await validator.measure(prepared.text)
    linear_timing = await validator.measure(linear)

    # The function's own calls in its tests were timed, per test, in each of the 2 runs.
    assert quadratic_timing.case_names and quadratic_timing.case_names == linear_timing.case_names
    assert all(len(runs) == 2 for runs in (*quadratic_timing.call_ns, *linear_timing.call_ns))
    assert is_faster(quadratic_timing, linear_timing, 1.10), (quadratic_timing, linear_timing)
    prepared.assert_untouched()


async def test_measure_times_the_bench_command_of_perforch_toml(
    prepare: Callable[[str], Awaitable[Prepared]],
) -> None:
    prepared = await prepare("python")
    workload = "from textstats.core import has_duplicates; has_duplicates(list(range(2500)))"
    config = Config(bench=CommandSettings(f"{sys.executable} -c '{workload}'"))
    validator = Workspace.open(prepared.workspace.file, config).validator("has_duplicates", LIMITS, runs=3)
    linear = prepared.text.replace(*prepared.example.linear[0])

    quadratic_timing = await validator.measure(prepared.text)
    linear_timing = await validator.measure(linear)

    assert quadratic_timing.call_ns == () and len(quadratic_timing.cpu_seconds) == 3  # the whole command, timed
    assert is_faster(quadratic_timing, linear_timing, 1.5), (quadratic_timing, linear_timing)


async def test_measure_of_a_failing_candidate_is_empty(prepare: Callable[[str], Awaitable[Prepared]]) -> None:
    prepared = await prepare("python")

    timing = await prepared.workspace.validator("count_vowels", LIMITS, runs=2).measure(prepared.text)

    assert timing.cpu_seconds == () and timing.call_ns == ()


# -- opening a workspace -------------------------------------------------------------------------------


def test_the_root_is_the_nearest_project_and_the_language_comes_from_the_file(cache_dir: Path, tmp_path: Path) -> None:
    root = _copy_example("go", tmp_path)
    (root / "inner").mkdir()
    (root / "inner" / "helper.go").write_text("package inner\n")

    workspace = Workspace.open(root / "inner" / "helper.go", Config())

    assert (workspace.root, workspace.language, workspace.file) == (root, "go", root / "inner" / "helper.go")
    assert workspace_root(root / "inner" / "helper.go") == root


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("notes.txt", "does not know the language of `.txt` files"),
        ("main.go", "is not inside a Go module: no go.mod"),
        ("missing.py", "no such file"),
    ],
)
def test_files_outside_a_workspace_are_refused_with_a_reason(
    cache_dir: Path, tmp_path: Path, name: str, message: str
) -> None:
    if name != "missing.py":
        (tmp_path / name).write_text("x")

    with pytest.raises(WorkspaceError, match=message):
        Workspace.open(tmp_path / name, Config())


# -- the shadow copy -------------------------------------------------------------------------------------


def _tree(root: Path) -> None:
    for relative, text in {
        "pkg/a.py": "a",
        "pkg/b.py": "b",
        "go.mod": "module m\n",
        ".git/HEAD": "ref",
        "pkg/__pycache__/a.pyc": "x",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)


def test_the_shadow_links_sources_copies_what_tools_rewrite_and_skips_vcs(tmp_path: Path) -> None:
    source = tmp_path / "project"
    source.mkdir()
    _tree(source)
    shadow = ShadowTree(source, tmp_path / "home")

    shadow.sync()

    assert os.path.samefile(source / "pkg/a.py", shadow.path("pkg/a.py"))
    assert not os.path.samefile(source / "go.mod", shadow.path("go.mod"))
    assert shadow.path("go.mod").read_text() == "module m\n"
    assert not shadow.path(".git").exists() and not shadow.path("pkg/__pycache__").exists()


def test_writing_a_candidate_never_reaches_the_users_file(tmp_path: Path) -> None:
    source = tmp_path / "project"
    source.mkdir()
    _tree(source)
    shadow = ShadowTree(source, tmp_path / "home")
    shadow.sync()
    before = (source / "pkg/a.py").stat()

    shadow.write("pkg/a.py", "candidate")
    assert shadow.path("pkg/a.py").read_text() == "candidate"
    shadow.restore("pkg/a.py")

    assert (source / "pkg/a.py").read_text() == "a"
    assert (source / "pkg/a.py").stat().st_mtime_ns == before.st_mtime_ns
    assert shadow.path("pkg/a.py").read_text() == "a"


def test_sync_follows_the_users_changes_and_keeps_build_outputs(tmp_path: Path) -> None:
    source = tmp_path / "project"
    source.mkdir()
    _tree(source)
    (source / "Cargo.toml").write_text("[package]\n")
    shadow = ShadowTree(source, tmp_path / "home")
    shadow.sync()
    shadow.path("target").mkdir()
    shadow.path("target/built").write_text("artifact")
    (source / "pkg/b.py").unlink()
    (source / "pkg/c.py").write_text("c")
    (source / "go.mod").write_text("module changed\n")

    report = shadow.sync()

    assert not shadow.path("pkg/b.py").exists() and shadow.path("pkg/c.py").read_text() == "c"
    assert shadow.path("go.mod").read_text() == "module changed\n"
    assert shadow.path("target/built").read_text() == "artifact"
    assert (report.linked, report.copied, report.removed) == (1, 1, 1)


# -- doc-comment examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            '"""Count.\n\n    >>> count_vowels("Hello World")\n    3\n    """',
            [Example('count_vowels("Hello World")', "3")],
        ),
        ('/// `count_vowels("a == b") == 2`', [Example('count_vowels("a == b")', "2")]),
        ('/**\n * Count.\n * countVowels("Hello") == 2;\n */', [Example('countVowels("Hello")', "2")]),
        ('// CountVowels("Hello") == 2\n// other(1) == 2', [Example('CountVowels("Hello")', "2")]),
        ('"""No examples here; count_vowels is documented only."""', []),
        (">>> count_vowels(None)\nTraceback (most recent call last):", []),
    ],
)
def test_doc_examples_are_read_from_either_style(doc: str, expected: list[Example]) -> None:
    name = "countVowels" if "countVowels" in doc else "CountVowels" if "CountVowels" in doc else "count_vowels"

    assert doc_examples(doc, name) == expected
