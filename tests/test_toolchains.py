"""The five toolchains on real compilers: HumanEvalPack canonical solutions pass, wrong and broken
programs get the right verdict, hostile programs are contained, and measure() tells slow from fast."""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from perforch.orchestration.checking import close_all, get_toolchain
from perforch.orchestration.languages import LANGUAGES
from perforch.orchestration.task import Limits, Outcome, Program, Verdict
from process_watch import unique_marker, wait_until_gone, wait_until_removed

HUMANEVALPACK = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "humanevalpack"
SAMPLE = (0, 41, 82, 123, 163)  # spread over the set, clear of the flaky Go/95 and Rust/32
FILE_NAMES = {"python": "main.py", "java": "Main.java", "cpp": "main.cpp", "go": "main_test.go", "rust": "main.rs"}
GO_SETUP = 'package main\n\nimport (\n    "testing"\n    "github.com/stretchr/testify/assert"\n)\n'
DEFAULT_LIMITS = Limits()
HOSTILE = Limits(wall_seconds=2, memory_mb=256, output_bytes=4 << 20, processes=32)

pytestmark = pytest.mark.skipif(not HUMANEVALPACK.is_dir(), reason=f"{HUMANEVALPACK} not found")


@pytest.fixture(autouse=True, scope="module")
def close_toolchains_afterwards() -> Iterator[None]:
    """Warm helpers (the javac server) serve every test's event loop, and stop with this module."""
    yield
    asyncio.run(close_all())


@functools.cache
def rows(language: str) -> list[dict]:
    with gzip.open(HUMANEVALPACK / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def benchmark_program(language: str, index: int, solution: str = "canonical_solution") -> Program:
    row = rows(language)[index]
    return Program(language, row["prompt"] + row[solution], row["test"], row.get("test_setup", ""))


def program(language: str, source: str, test: str) -> Program:
    return Program(language, source, test, GO_SETUP if language == "go" else "")


async def verdict(prog: Program, limits: Limits = DEFAULT_LIMITS) -> Verdict:
    return await get_toolchain(prog.language).build_and_test(prog, limits)


# -- HumanEvalPack ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_canonical_solutions_pass(language: str) -> None:
    programs = [benchmark_program(language, index) for index in SAMPLE]
    verdicts = await asyncio.gather(*(verdict(p) for p in programs))
    assert [v.outcome for v in verdicts] == [Outcome.PASSED] * len(SAMPLE), [v.diagnostics for v in verdicts]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_wrong_answer_fails_with_the_assertion(language: str) -> None:
    result = await verdict(benchmark_program(language, 0, "buggy_solution"))
    assert result.outcome is Outcome.TEST_FAILED
    assert FILE_NAMES[language] in result.diagnostics and "/tmp/" not in result.diagnostics
    assert 0 < len(result.diagnostics) <= 2100 and result.seconds > 0


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_syntax_error_is_a_compile_error_that_names_the_line(language: str) -> None:
    broken = benchmark_program(language, 0)
    broken = Program(language, broken.source + "\nthis is not code (\n", broken.test, broken.test_setup)
    result = await verdict(broken)
    assert result.outcome is Outcome.COMPILE_ERROR
    assert FILE_NAMES[language] in result.diagnostics and "/tmp/" not in result.diagnostics


NO_TESTS = {
    "rust": ("pub fn f() {}", "#[cfg(test)]\nmod tests {\n    use super::*;\n}\n"),
    "go": ("func f() {}", "func helper() { f() }"),
}


@pytest.mark.parametrize("language", sorted(NO_TESTS))
async def test_a_test_program_that_runs_no_test_does_not_pass(language: str) -> None:
    result = await verdict(program(language, *NO_TESTS[language]))
    assert result.outcome is Outcome.TEST_FAILED and "no test ran" in result.diagnostics


def test_get_toolchain_is_one_instance_per_language() -> None:
    assert get_toolchain("C++") is get_toolchain("cpp") and get_toolchain("go").language == "go"


# -- programs that misbehave --------------------------------------------------------------------------

INFINITE_LOOP = {
    "python": ("def spin():\n    while True:\n        pass\n", "spin()\n"),
    "java": (
        "class Solution { void spin() { while (true) {} } }",
        "public class Main { public static void main(String[] a) { new Solution().spin(); } }",
    ),
    "cpp": ("void spin() { volatile int x = 0; while (true) x++; }", "int main() { spin(); }"),
    "go": ("func spin() { for {} }", "func TestSpin(t *testing.T) { spin() }"),
    "rust": ("fn spin() { loop {} }", "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { super::spin(); }\n}\n"),
}

MEMORY_HOG = {
    "python": ("def hog():\n    x = []\n    while True:\n        x.append(bytearray(10**7))\n", "hog()\n"),
    "java": (
        "import java.util.*;\nclass Solution { void hog() { List<long[]> l = new ArrayList<>(); "
        "while (true) l.add(new long[1 << 20]); } }",
        "public class Main { public static void main(String[] a) { new Solution().hog(); } }",
    ),
    "cpp": (
        "#include <vector>\nvoid hog() { std::vector<std::vector<char>> v; while (true) v.emplace_back(1 << 24, 1); }",
        "int main() { hog(); }",
    ),
    "go": (
        "func hog() int { var s [][]byte; for { b := make([]byte, 1<<24); b[0] = 1; s = append(s, b) } }",
        "func TestHog(t *testing.T) { hog() }",
    ),
    "rust": (
        "fn hog() { let mut v = Vec::new(); loop { v.push(vec![1u8; 1 << 24]); } }",
        "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { super::hog(); }\n}\n",
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_infinite_loop_times_out_quickly(language: str) -> None:
    result = await verdict(program(language, *INFINITE_LOOP[language]), Limits(wall_seconds=1))
    assert result.outcome is Outcome.TIMEOUT
    assert result.seconds < 4


@pytest.mark.parametrize("language", LANGUAGES)
async def test_unbounded_memory_hits_the_limit(language: str) -> None:
    result = await verdict(program(language, *MEMORY_HOG[language]), HOSTILE)
    assert result.outcome is Outcome.RESOURCE_LIMIT, result.diagnostics
    assert "memory" in result.diagnostics


def where_am_i(language: str, marker: str) -> str:
    """Code that records the program's working directory in /tmp/<marker> (to look for leftovers)."""
    if language == "python":
        return f"import os\nopen('/tmp/{marker}', 'w').write(os.getcwd())\n"
    return f'{{ char d[4096]; FILE* f = fopen("/tmp/{marker}", "w"); fputs(getcwd(d, sizeof d), f); fclose(f); }}'


HOSTILE_PROGRAMS = {
    ("python", "fork bomb"): "{here}while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
    ("cpp", "fork bomb"): "int main() {{ {here} while (true) fork(); }}",
    ("python", "huge file"): "{here}with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 2**20)\n",
    ("cpp", "huge file"): (
        'int main() {{ {here} FILE* f = fopen("big", "wb"); static char b[1 << 20];'
        " while (true) fwrite(b, 1, sizeof b, f); }}"
    ),
}


@pytest.mark.parametrize(("language", "kind"), sorted(HOSTILE_PROGRAMS))
async def test_hostile_programs_are_contained_and_leave_nothing_behind(language: str, kind: str) -> None:
    marker = unique_marker()
    source = "#include <unistd.h>\n#include <cstdio>\n" if language == "cpp" else ""
    code = HOSTILE_PROGRAMS[language, kind].format(here=where_am_i(language, marker))
    try:
        result = await verdict(program(language, source, code), HOSTILE)
        run_dir = Path(f"/tmp/{marker}").read_text()
    finally:
        Path(f"/tmp/{marker}").unlink(missing_ok=True)
    assert result.outcome in (Outcome.RESOURCE_LIMIT, Outcome.TIMEOUT, Outcome.TEST_FAILED)
    assert wait_until_gone(run_dir) == []
    assert wait_until_removed(Path(run_dir))


NETWORK_CLIENTS = {
    "python": ("import socket\n", "socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"),
    "cpp": (
        "#include <arpa/inet.h>\n#include <cassert>\n#include <sys/socket.h>\n",
        "int main() {{ int s = socket(AF_INET, SOCK_STREAM, 0); sockaddr_in a{{}}; a.sin_family = AF_INET;"
        " a.sin_port = htons({port}); a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);"
        " assert(connect(s, (sockaddr*)&a, sizeof a) == 0); }}",
    ),
    "java": (
        "class Solution {}",
        "public class Main {{ public static void main(String[] a) throws Exception "
        '{{ new java.net.Socket("127.0.0.1", {port}).close(); }} }}',
    ),
}


@pytest.mark.parametrize("language", sorted(NETWORK_CLIENTS))
async def test_no_network(language: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        source, test = NETWORK_CLIENTS[language]
        result = await verdict(program(language, source, test.format(port=server.getsockname()[1])))
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert result.outcome is Outcome.TEST_FAILED


async def test_cancelling_build_and_test_kills_the_program() -> None:
    marker = unique_marker()
    spinning = program("python", where_am_i("python", marker), "while True:\n    pass\n")
    task = asyncio.ensure_future(verdict(spinning, Limits(wall_seconds=30)))
    try:
        while not Path(f"/tmp/{marker}").exists():
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # let it write the directory's name
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        run_dir = Path(f"/tmp/{marker}").read_text()
    finally:
        Path(f"/tmp/{marker}").unlink(missing_ok=True)
    assert run_dir and wait_until_gone(run_dir) == []
    assert wait_until_removed(Path(run_dir))


# -- measure() ----------------------------------------------------------------------------------------

NESTED_LOOPS = {
    "python": (
        "def work(n):\n    total = 0\n    for i in range(n):\n        for j in range({inner}):\n"
        "            total += i ^ j\n    return total\n",
        "work({n})\n",
        1500,
    ),
    "java": (
        "class Solution {{ long work(int n) {{ long t = 0; for (int i = 0; i < n; i++) "
        "for (int j = 0; j < {inner}; j++) t += i ^ j; return t; }} }}",
        "public class Main { public static void main(String[] a) { System.out.println(new Solution().work({n})); } }",
        20000,
    ),
    "cpp": (
        "long work(int n) {{ volatile long t = 0; for (int i = 0; i < n; i++) "
        "for (int j = 0; j < {inner}; j++) t = t + (i ^ j); return t; }}",
        '#include <cstdio>\nint main() { printf("%ld\\n", work({n})); }',
        12000,
    ),
    "go": (
        "func work(n int) int {{ t := 0; for i := 0; i < n; i++ {{ for j := 0; j < {inner}; j++ "
        "{{ t += i ^ j }} }}; return t }}",
        "func TestWork(t *testing.T) { assert.NotEqual(t, -1, work({n})) }",
        16000,
    ),
    "rust": (
        "fn work(n: u64) -> u64 {{ let mut t = 0u64; for i in 0..n {{ for j in 0..{inner} "
        "{{ t = t.wrapping_add(std::hint::black_box(i ^ j)); }} }} t }}",
        "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() { assert!(super::work({n}) != 1); }\n}\n",
        12000,
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_measure_tells_a_quadratic_program_from_a_linear_one(language: str) -> None:
    source, test, n = NESTED_LOOPS[language]
    toolchain, limits = get_toolchain(language), Limits(wall_seconds=10)
    timings = {}
    for name, inner in (("linear", "1"), ("quadratic", "n")):
        measured = program(language, source.format(inner=inner), test.replace("{n}", str(n)))
        timings[name] = await toolchain.measure(measured, limits, runs=3)
    assert [len(t.cpu_seconds) for t in timings.values()] == [3, 3]
    assert 0 < timings["linear"].median < 1 and timings["quadratic"].median < 5
    assert timings["quadratic"].median > 2 * timings["linear"].median, timings


async def test_measure_gives_no_timing_for_a_failing_program() -> None:
    timing = await get_toolchain("python").measure(benchmark_program("python", 0, "buggy_solution"), Limits())
    assert timing.cpu_seconds == ()
