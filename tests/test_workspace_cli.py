"""`perforch generate` and `perforch optimize` on the example workspaces, through the real CLI, the scripted
model server and each workspace's own toolchain; afterwards the workspace's own test command judges."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_workspace_projects import CMAKE_PROJECT

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# language: (file, stub name, finished slow name, own test command)
WORKSPACES = {
    "python": ("textstats/core.py", "count_vowels", "has_duplicates", [sys.executable, "-m", "pytest", "-q"]),
    "java": ("src/main/java/example/TextStats.java", "countVowels", "hasDuplicates", ["mvn", "-o", "-q", "test"]),
    "cpp": (
        "src/textstats.cpp",
        "count_vowels",
        "has_duplicates",
        ["sh", "-c", "cmake -S . -B build -G Ninja >/dev/null && cmake --build build && ctest --test-dir build"],
    ),
    "go": ("textstats.go", "CountVowels", "HasDuplicates", ["go", "test", "./..."]),
    "rust": ("src/lib.rs", "count_vowels", "has_duplicates", ["cargo", "test", "--offline", "-q"]),
}

VOWELS = {
    "python": 'def count_vowels(text: str) -> int:\n    return sum(1 for ch in text.lower() if ch in "aeiou")\n',
    "java": (
        "public static int countVowels(String text) {\n    int n = 0;\n"
        '    for (char c : text.toLowerCase().toCharArray()) if ("aeiou".indexOf(c) >= 0) n++;\n    return n;\n}\n'
    ),
    "cpp": (
        "#include <cctype>\nint count_vowels(const std::string& text) {\n    int n = 0;\n    for (char c : text) {\n"
        "        char l = std::tolower(static_cast<unsigned char>(c));\n"
        "        if (l == 'a' || l == 'e' || l == 'i' || l == 'o' || l == 'u') n++;\n    }\n    return n;\n}\n"
    ),
    "go": (
        'import "strings"\n\nfunc CountVowels(text string) int {\n\tn := 0\n'
        "\tfor _, r := range strings.ToLower(text) {\n"
        '\t\tif strings.ContainsRune("aeiou", r) {\n\t\t\tn++\n\t\t}\n\t}\n\treturn n\n}\n'
    ),
    "rust": (
        "pub fn count_vowels(text: &str) -> usize {\n"
        '    text.chars().filter(|c| "aeiouAEIOU".contains(*c)).count()\n}\n'
    ),
}
WRONG_VOWELS = {
    "python": "def count_vowels(text: str) -> int:\n    return len(text)\n",
    "java": "public static int countVowels(String text) {\n    return text.length();\n}\n",
    "cpp": "int count_vowels(const std::string& text) {\n    return (int)text.size();\n}\n",
    "go": "func CountVowels(text string) int {\n\treturn len(text)\n}\n",
    "rust": "pub fn count_vowels(text: &str) -> usize {\n    text.len()\n}\n",
}
FAST_DUPLICATES = {
    "python": "def has_duplicates(values: list[int]) -> bool:\n    return len(set(values)) != len(values)\n",
    "java": (
        "public static boolean hasDuplicates(List<Integer> values) {\n"
        "    return new java.util.HashSet<>(values).size() != values.size();\n}\n"
    ),
    "cpp": (
        "#include <unordered_set>\nbool has_duplicates(const std::vector<int>& values) {\n"
        "    std::unordered_set<int> seen(values.begin(), values.end());\n    return seen.size() != values.size();\n}\n"
    ),
    "go": (
        "func HasDuplicates(values []int) bool {\n\tseen := make(map[int]bool, len(values))\n"
        "\tfor _, v := range values {\n\t\tif seen[v] {\n\t\t\treturn true\n\t\t}\n\t\tseen[v] = true\n\t}\n"
        "\treturn false\n}\n"
    ),
    "rust": (
        "use std::collections::HashSet;\n\npub fn has_duplicates(values: &[i64]) -> bool {\n"
        "    let mut seen = HashSet::new();\n    values.iter().any(|v| !seen.insert(*v))\n}\n"
    ),
}

# The finished function's own tests (the stub's tests fail until it is generated).
DUPLICATES_TESTS = {
    "python": [sys.executable, "-m", "pytest", "-q", "-k", "has_duplicates"],
    "go": ["go", "test", "-run", "HasDuplicates", "./..."],
    "java": ["mvn", "-o", "-q", "test", "-Dtest=TextStatsTest#findsDuplicates"],
    "cpp": [
        "sh",
        "-c",
        "cmake -S . -B build -G Ninja >/dev/null && cmake --build build && ctest --test-dir build -R FindsDuplicates",
    ],
    "rust": ["cargo", "test", "--offline", "-q", "finds_duplicates"],
}


# The test that calls the function, as the function's timer names it.
DUPLICATES_TEST_IDS = {
    "python": "tests/test_core.py::test_has_duplicates",
    "go": "TestHasDuplicates",
    "java": "TextStatsTest.findsDuplicates",
    "cpp": "TextStats.FindsDuplicates",
    "rust": "tests::finds_duplicates",
}
# A test that calls has_duplicates on a list with a duplicate but checks nothing, and a "faster" version that
# every asserted call in the example's tests lets through but that is wrong on that list.
THIN_TESTS = {
    "python": (
        "tests/test_thin.py",
        "from textstats.core import has_duplicates\n\n\ndef test_prints_duplicates():\n"
        "    print(has_duplicates([5, 1, 5, 2]))\n",
        "has_duplicates([5, 1, 5, 2]) returned False, but the version being refined returned True",
    ),
    "go": (
        "thin_test.go",
        'package textstats\n\nimport "testing"\n\nfunc TestLogsDuplicates(t *testing.T) {\n'
        "\tt.Log(HasDuplicates([]int{5, 1, 5, 2}))\n}\n",
        "HasDuplicates([]int{5, 1, 5, 2}) returned false, but the version being refined returned true",
    ),
}
FAST_BUT_WRONG = {
    "python": (
        "def has_duplicates(values: list[int]) -> bool:\n"
        "    return len(set(values)) != len(values) and values[0] == values[-1]\n"
    ),
    "go": (
        "func HasDuplicates(values []int) bool {\n\tseen := make(map[int]bool, len(values))\n"
        "\tfor _, v := range values {\n\t\tif seen[v] {\n\t\t\treturn values[0] == values[len(values)-1]\n\t\t}\n"
        "\t\tseen[v] = true\n\t}\n\treturn false\n}\n"
    ),
}


def _fenced(language: str, code: str) -> str:
    return f"Sure.\n```{language}\n{code}```\n"


@pytest.fixture(autouse=True)
def empty_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PerfOrch's cache dir (shadow copies, what was fetched) starts empty, as on a fresh machine."""
    directory = tmp_path / "perforch-cache"
    monkeypatch.setenv("PERFORCH_CACHE_DIR", str(directory))
    return directory


def _workspace(tmp_path: Path, language: str, server, answers: dict[str, str]) -> Path:
    root = tmp_path / language
    shutil.copytree(EXAMPLES / language, root, ignore=shutil.ignore_patterns("target", "build", "__pycache__"))
    return _configured(root, language, server, answers)


def _configured(root: Path, language: str, server, answers: dict[str, str]) -> Path:
    """perforch.toml with one model per answer, all served by the scripted server."""
    tables = [
        f'[models.{name}]\nmodel = "openai/{name}"\napi_base = "{server.base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        for name in answers
    ]
    pipeline = (
        f"[pipeline]\nmodels = {json.dumps(list(answers))}\nrefiners = 1\nrefine_runs = 3\ntest_timeout = 120.0\n"
    )
    (root / "perforch.toml").write_text("\n".join([*tables, pipeline]))

    def policy(model: str, messages: list[dict]) -> str:
        if "classify" in messages[0]["content"]:
            return "string"
        return _fenced(language, answers[model])

    server.set_policy(policy)
    return root


def _line_of(file: Path, name: str) -> int:
    lines = file.read_text().splitlines()
    return next(
        i
        for i, line in enumerate(lines, 1)
        if name in line and "(" in line and not line.lstrip().startswith(("/", "#", "*"))
    )


def _perforch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test"}
    return subprocess.run(
        [sys.executable, "-m", "perforch.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _own_tests_pass(root: Path, language: str) -> subprocess.CompletedProcess:
    return subprocess.run(WORKSPACES[language][3], cwd=root, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize("language", list(WORKSPACES))
def test_generate_apply_makes_the_workspace_tests_pass(tmp_path, scripted_server, language):
    root = _workspace(tmp_path, language, scripted_server, {"writer": VOWELS[language]})
    file = root / WORKSPACES[language][0]
    run = _perforch(
        "generate", str(file), "--line", str(_line_of(file, WORKSPACES[language][1])), "--apply", "--json", cwd=root
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["passed"] and report["applied"], report
    assert report["tests"]["run"] and report["tests"]["run"] == report["tests"]["passed"]
    assert report["models"]["generate"] == "writer"
    own = _own_tests_pass(root, language)
    # has_duplicates passed before; count_vowels now passes too, so the whole suite is green
    assert own.returncode == 0, own.stdout + own.stderr


@pytest.mark.slow
@pytest.mark.parametrize("language", ["python", "rust"])
def test_a_wrong_answer_leaves_the_file_byte_identical_and_says_why(tmp_path, scripted_server, language):
    root = _workspace(tmp_path, language, scripted_server, {"wrong": WRONG_VOWELS[language]})
    file = root / WORKSPACES[language][0]
    before = file.read_bytes()
    run = _perforch("generate", str(file), "--line", str(_line_of(file, WORKSPACES[language][1])), "--apply", cwd=root)
    assert run.returncode == 1
    assert file.read_bytes() == before
    assert "no passing version found (wrong: test failed" in run.stdout, run.stdout
    assert "the file was left unchanged" in run.stdout
    assert "last failure" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("language", list(WORKSPACES))
def test_optimize_keeps_only_a_measurably_faster_passing_version(tmp_path, scripted_server, language):
    name = WORKSPACES[language][2]
    root = _workspace(tmp_path, language, scripted_server, {"fast": FAST_DUPLICATES[language]})
    file = root / WORKSPACES[language][0]
    run = _perforch("optimize", str(file), "--line", str(_line_of(file, name)), "--apply", "--json", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["applied"], report
    # The function's own time in its test was measured, before and after: the quadratic scan of thousands of
    # distinct values against one pass over a set is orders of magnitude, not the start-up-diluted 1.2x.
    timing = report["timing"]
    assert timing["measured"] == "function", report
    assert [t["test"] for t in timing["tests"]] == [DUPLICATES_TEST_IDS[language]], timing
    for test in timing["tests"]:
        assert test["before_seconds"] > 10 * test["after_seconds"] > 0, timing
    assert report["speedup"] > 10, report
    before, after = report["cpu_seconds"]  # the measured time the speed-up is made of (the function's own)
    assert before > after > 0, report
    own = subprocess.run(DUPLICATES_TESTS[language], cwd=root, capture_output=True, text=True, timeout=600)
    assert own.returncode == 0, own.stdout + own.stderr

    original = (EXAMPLES / language / WORKSPACES[language][0]).read_text()
    unchanged = _function_text(original, language, name)
    for label, code in (("equal", unchanged), ("wrong", _break(FAST_DUPLICATES[language]))):
        root = _workspace(tmp_path / label, language, scripted_server, {label: code})
        file = root / WORKSPACES[language][0]
        before = file.read_bytes()
        run = _perforch("optimize", str(file), "--line", str(_line_of(file, name)), "--apply", "--json", cwd=root)
        report = json.loads(run.stdout)
        assert not report["applied"] and not report["changed"], (label, report)
        assert file.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("language", list(THIN_TESTS))
def test_optimize_rejects_a_faster_version_that_returns_otherwise_on_a_call_no_test_checks(
    tmp_path, scripted_server, language
):
    name = WORKSPACES[language][2]
    root = _workspace(tmp_path, language, scripted_server, {"sloppy": FAST_BUT_WRONG[language]})
    relative, thin_test, reason = THIN_TESTS[language]
    (root / relative).write_text(thin_test)
    file = root / WORKSPACES[language][0]
    before = file.read_bytes()

    run = _perforch("optimize", str(file), "--line", str(_line_of(file, name)), "--apply", "--json", cwd=root)

    report = json.loads(run.stdout)
    assert not report["applied"] and not report["changed"], report
    assert file.read_bytes() == before
    refined = [
        attempt for attempt in report["trace"] if attempt["stage"] == "refine" and attempt["status"] != "answered"
    ]
    assert refined and refined[0]["status"] == "test_failed", report["trace"]
    assert reason in refined[0]["detail"], refined


@pytest.mark.slow
def test_generate_says_it_ran_the_whole_test_command_when_no_test_names_the_function(tmp_path, scripted_server):
    root = tmp_path / "geometry"
    for relative, text in CMAKE_PROJECT.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    area = "int square_area(int side) {\n    return side * side;\n}\n"
    _configured(root, "cpp", scripted_server, {"writer": area})
    file = root / "src" / "geometry.cpp"

    run = _perforch("generate", str(file), "--line", str(_line_of(file, "square_area")), cwd=root)

    assert run.returncode == 0, run.stdout + run.stderr
    tests_line = "tests: 2/2 passed (the project's whole test command: ctest; no test names square_area)"
    assert tests_line in run.stdout.splitlines(), run.stdout


def _function_text(source: str, language: str, name: str) -> str:
    from perforch.orchestration.stubs import find_function

    return find_function(source, language, name=name).text + "\n"


def _break(code: str) -> str:
    """A fast but wrong version: it never finds a duplicate."""
    for old, new in (
        ("!= len(values)", "!= len(values) and False"),
        ("!= values.size()", "!= values.size() && false"),
        ("return true", "return false"),
        ("!seen.insert(*v)", "false && !seen.insert(*v)"),
    ):
        code = code.replace(old, new)
    return code
