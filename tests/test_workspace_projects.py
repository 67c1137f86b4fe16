"""Workspace mode on projects unlike the examples, with the real toolchains: Maven from an empty local
repository (and what it says when the project does not compile or an artifact is missing offline), and
projects whose tests discovery cannot attribute to the function (plain ctest programs; Go, Rust, Python and
Java tests that reach it through another function), which then run the project's whole test command."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from perforch.orchestration.config import Config
from perforch.orchestration.task import Limits, Outcome
from perforch.orchestration.workspace import WHOLE_SUITE, Workspace, WorkspaceError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LIMITS = Limits(wall_seconds=30, build_seconds=180)
JAVA_FILE = "src/main/java/example/TextStats.java"
JAVA_STUB = 'throw new UnsupportedOperationException("TODO");'
JAVA_VOWELS = 'int n = 0; for (char c : text.toCharArray()) if ("aeiouAEIOU".indexOf(c) >= 0) n++; return n;'


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PerfOrch's cache dir (shadow copies, fetch stamps) starts empty: nothing from an earlier run helps."""
    directory = tmp_path / "perforch-cache"
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def fresh_maven_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A Maven local repository of this test alone, empty, whatever ran before it."""
    directory = tmp_path / "m2"
    directory.mkdir()
    monkeypatch.setenv("MAVEN_OPTS", f"{os.environ.get('MAVEN_OPTS', '')} -Dmaven.repo.local={directory}".strip())
    yield directory


def _java_example(parent: Path) -> Path:
    root = parent / "java-project"
    shutil.copytree(EXAMPLES / "java", root, ignore=shutil.ignore_patterns("target"))
    return root


# -- Maven on a fresh machine -------------------------------------------------------------------------------


async def test_a_maven_project_is_tested_offline_after_resolving_into_an_empty_repository(
    cache_dir: Path, fresh_maven_repository: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _java_example(tmp_path)
    workspace = Workspace.open(root / JAVA_FILE, Config())
    stub = workspace.file.read_text()
    validator = workspace.validator("countVowels", LIMITS)

    failing = await validator.check(stub)
    passing = await validator.check(stub.replace(JAVA_STUB, JAVA_VOWELS))

    # The stub fails its own test (not Maven): so the offline run found surefire's provider.
    assert failing.outcome is Outcome.TEST_FAILED and "UnsupportedOperationException" in failing.diagnostics, failing
    assert (passing.outcome, passing.tests_run, passing.tests_passed) == (Outcome.PASSED, 1, 1), passing
    assert not list(workspace.shadow.tree.rglob("PerforchProbeTest*"))  # the probe is gone from the shadow
    assert workspace.file.read_text() == stub

    # The same workspace, but Maven's repository swapped for an empty one: nothing can be built offline. That
    # is the machine's problem: the run stops with the reason instead of failing the candidate.
    monkeypatch.setenv("MAVEN_OPTS", f"-Dmaven.repo.local={tmp_path / 'other-empty-m2'}")
    with pytest.raises(WorkspaceError) as raised:
        await validator.check(stub.replace(JAVA_STUB, JAVA_VOWELS))
    message = str(raised.value)
    assert message.startswith("mvn could not find org.apache.maven"), message
    assert "offline" in message and "not a model's answer" in message
    assert not (workspace.shadow.home / "fetched").exists()  # the next run resolves again


async def test_a_maven_project_that_does_not_compile_shows_mavens_error(cache_dir: Path, tmp_path: Path) -> None:
    root = _java_example(tmp_path)
    source = root / JAVA_FILE
    source.write_text(source.read_text().replace("return false;", "return undefinedThing;"))

    with pytest.raises(WorkspaceError) as raised:
        await Workspace.open(source, Config()).prepare()

    message = str(raised.value)
    assert "the project does not compile" in message, message
    assert "could not download" not in message and "network needed once" not in message
    said = message.split("mvn said:\n", 1)[1]
    assert said.startswith("[ERROR]") and "cannot find symbol" in said and "undefinedThing" in said, said
    assert "src/main/java/example/TextStats.java" in said and str(cache_dir) not in message
    assert "[Help 1]" not in message  # Maven's boilerplate is left out


async def test_a_maven_dependency_that_cannot_be_downloaded_is_named_a_network_problem(
    cache_dir: Path, tmp_path: Path
) -> None:
    root = _java_example(tmp_path)
    unreachable = """
  <repositories>
    <repository><id>unreachable</id><url>https://127.0.0.1:9/maven</url></repository>
  </repositories>
  <dependencies>
    <dependency><groupId>example.perforch</groupId><artifactId>nowhere</artifactId><version>1.0</version></dependency>"""
    pom = root / "pom.xml"
    pom.write_text(pom.read_text().replace("\n  <dependencies>", unreachable, 1))

    with pytest.raises(WorkspaceError) as raised:
        await Workspace.open(root / JAVA_FILE, Config()).prepare()

    message = str(raised.value)
    assert "could not download what the project needs" in message, message
    assert "example.perforch:nowhere" in message.split("mvn said:\n", 1)[1]


# -- tests discovery cannot attribute: the project's whole test command ------------------------------------

CMAKE_PROJECT = {
    "CMakeLists.txt": """cmake_minimum_required(VERSION 3.16)
project(geometry CXX)
set(CMAKE_CXX_STANDARD 17)
add_library(geometry src/geometry.cpp)
target_include_directories(geometry PUBLIC src)
enable_testing()
add_executable(check_area tests/check_area.cpp)
target_link_libraries(check_area geometry)
add_test(NAME area COMMAND check_area)
add_executable(check_perimeter tests/check_perimeter.cpp)
target_link_libraries(check_perimeter geometry)
add_test(NAME perimeter COMMAND check_perimeter)
""",
    "src/geometry.h": "int square_area(int side);\nint square_perimeter(int side);\n",
    "src/geometry.cpp": """#include "geometry.h"

int square_area(int side) {
    return 0;  // TODO
}

int square_perimeter(int side) { return 4 * side; }
""",
    # Plain programs, no test framework: the exit status is the verdict.
    "tests/check_area.cpp": """#include <cstdio>
#include "geometry.h"

int main() {
    if (square_area(3) != 9) {
        std::fprintf(stderr, "square_area(3) is %d, expected 9\\n", square_area(3));
        return 1;
    }
    return 0;
}
""",
    "tests/check_perimeter.cpp": """#include "geometry.h"

int main() { return square_perimeter(3) == 12 ? 0 : 1; }
""",
}

GO_MODULE = {
    "go.mod": "module example.com/stats\n\ngo 1.21\n",
    "stats.go": """package stats

import "fmt"

func Mean(values []float64) float64 {
\treturn 0
}

// Summary describes the values; its test reaches Mean through it.
func Summary(values []float64) string {
\treturn fmt.Sprintf("average %.1f", Mean(values))
}
""",
    "stats_test.go": """package stats

import "testing"

func TestSummary(t *testing.T) {
\tif got := Summary([]float64{1, 2, 6}); got != "average 3.0" {
\t\tt.Errorf("Summary = %q, want %q", got, "average 3.0")
\t}
}
""",
}
GO_MEAN = """\tsum := 0.0
\tfor _, v := range values {
\t\tsum += v
\t}
\treturn sum / float64(len(values))"""

RUST_CRATE = {
    "Cargo.toml": '[package]\nname = "stats"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
    "src/lib.rs": """pub fn mean(values: &[f64]) -> f64 {
    0.0
}

/// Describes the values; the tests reach `mean` through it.
pub fn summary(values: &[f64]) -> String {
    format!("average {:.1}", mean(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes() {
        assert_eq!(summary(&[1.0, 2.0, 6.0]), "average 3.0");
    }
}
""",
}
RUST_MEAN = "    values.iter().sum::<f64>() / values.len() as f64"

PYTHON_PROJECT = {
    "pyproject.toml": '[project]\nname = "stats"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\n'
    'testpaths = ["tests"]\n',
    "stats/__init__.py": "",
    "stats/core.py": """def mean(values: list[float]) -> float:
    return 0.0


def summary(values: list[float]) -> str:
    \"\"\"Describes the values; the tests reach `mean` through it.\"\"\"
    return f"average {mean(values):.1f}"
""",
    "tests/test_summary.py": """from stats.core import summary


def test_summarizes():
    assert summary([1.0, 2.0, 6.0]) == "average 3.0"
""",
}
PYTHON_MEAN = "    return sum(values) / len(values)"

JAVA_PROJECT = {
    "pom.xml": (EXAMPLES / "java" / "pom.xml").read_text(),
    "src/main/java/example/Stats.java": """package example;

public class Stats {
    static double mean(double[] values) {
        return 0;
    }

    /** Describes the values; the tests reach mean through it. */
    public static String summary(double[] values) {
        return String.format("average %.1f", mean(values));
    }
}
""",
    "src/test/java/example/StatsTest.java": """package example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StatsTest {
    @Test
    void summarizes() {
        assertEquals("average 3.0", Stats.summary(new double[] {1, 2, 6}));
    }
}
""",
}
JAVA_MEAN = "        double sum = 0;\n        for (double v : values) sum += v;\n        return sum / values.length;"


def _project(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "edited", "function", "stub_body", "body", "command", "counts"),
    [
        (CMAKE_PROJECT, "src/geometry.cpp", "square_area", "    return 0;  // TODO", "    return side * side;",
         "ctest", (2, 1)),
        (GO_MODULE, "stats.go", "Mean", "\treturn 0", GO_MEAN, "go test ./...", (1, 0)),
        (RUST_CRATE, "src/lib.rs", "mean", "    0.0", RUST_MEAN, "cargo test", (1, 0)),
        (PYTHON_PROJECT, "stats/core.py", "mean", "    return 0.0", PYTHON_MEAN, "pytest", (1, 0)),
        (JAVA_PROJECT, "src/main/java/example/Stats.java", "mean", "        return 0;", JAVA_MEAN, "mvn test",
         (1, 0)),
    ],
    ids=["cmake-add_test", "go", "rust", "python", "java"],
)  # fmt: skip
async def test_a_function_no_test_names_is_checked_by_the_whole_test_command(
    cache_dir: Path,
    tmp_path: Path,
    files: dict[str, str],
    edited: str,
    function: str,
    stub_body: str,
    body: str,
    command: str,
    counts: tuple[int, int],
) -> None:
    root = _project(tmp_path / "project", files)
    workspace = Workspace.open(root / edited, Config())
    stub = workspace.file.read_text()
    validator = workspace.validator(function, LIMITS)

    failing = await validator.check(stub)
    passing = await validator.check(stub.replace(stub_body, body))

    assert validator.tests_source == f"{WHOLE_SUITE}: {command}; no test names {function}"
    assert failing.outcome is Outcome.TEST_FAILED, failing
    assert (failing.tests_run, failing.tests_passed) == counts, failing
    assert (passing.outcome, passing.tests_run, passing.tests_passed) == (Outcome.PASSED, counts[0], counts[0])
    assert passing.tests_source == validator.tests_source
    assert workspace.file.read_text() == stub


async def test_the_whole_test_command_shows_the_failing_programs_output(cache_dir: Path, tmp_path: Path) -> None:
    root = _project(tmp_path / "project", CMAKE_PROJECT)
    workspace = Workspace.open(root / "src/geometry.cpp", Config())

    verdict = await workspace.validator("square_area", LIMITS).check(workspace.file.read_text())

    assert "square_area(3) is 0, expected 9" in verdict.diagnostics, verdict.diagnostics
    assert "perimeter" not in verdict.diagnostics  # only the failing test is shown
