"""The timing harness of Java, C++, Go and Rust, built by the real toolchains and run in the real sandbox:
canonical solutions' results come back as the values they compute, every timed call is reported, a
result is consumed (a bigger input takes longer even when only a number comes back), and a candidate
that crashes, loops or does not build gets a clear verdict."""

from __future__ import annotations

import pytest
from humaneval_models import BENCHMARK
from perforch.orchestration.benchmark import load_benchmark
from perforch.orchestration.checking import close_all
from perforch.orchestration.efficiency.typed_harness import run_harness, run_in_turns
from perforch.orchestration.efficiency.values import decode_results, encode_cases, shaped_like
from perforch.orchestration.languages import language_spec
from perforch.orchestration.task import Limits, Outcome

TYPED = ("java", "cpp", "go", "rust")
LIMITS = Limits(wall_seconds=60)


@pytest.fixture(scope="module")
def problems():
    loaded = {p.task_id: p for p in load_benchmark(BENCHMARK, list(TYPED))}
    yield {(p.language, int(p.task_id.split("/")[1])): p for p in loaded.values()}


@pytest.fixture(autouse=True)
async def toolchains_closed():
    yield
    await close_all()


def signature_of(language: str, number: int):
    import gzip
    import json

    with gzip.open(BENCHMARK / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        row = json.loads(lines.readlines()[number])
    return language_spec(language).values().parse_signature(row["signature"])


async def harness(problems, language, number, cases, source=None, warmups=2, runs=3, limits=LIMITS):
    signature = signature_of(language, number)
    source = problems[(language, number)].reference_source if source is None else source
    run = await run_harness(
        language, source, signature, encode_cases(signature.param_types, cases), warmups, runs, limits
    )
    return signature, run


# ENAMEL/107 returns a tuple in Python and a list or tuple or [2]int elsewhere; 12 an optional string
# (C++ returns "" for none); 22 a list of anything.
EXPECTED = {
    107: ([(12,), (3,)], [(4, 6), (1, 2)]),
    12: ([(["a", "bb", "ccc"],), (["x y", "z:"],)], ["ccc", "x y"]),
    22: ([(["a", 3.14, 5],), ([1, 2, 3, "abc", [], {6}],)], [[5], [1, 2, 3]]),
}


@pytest.mark.slow
@pytest.mark.parametrize("language", TYPED)
async def test_canonical_results_come_back_with_every_timed_call(problems, language):
    for number, (cases, expected) in EXPECTED.items():
        signature, run = await harness(problems, language, number, cases)
        assert run.verdict.passed, run.verdict.diagnostics
        results = decode_results(signature.returns, run.results, len(cases))
        assert [shaped_like(r, e) for r, e in zip(results, expected, strict=True)] == expected, (number, results)
        assert len(run.times_ns) == len(cases)
        assert all(len(times) == 3 and all(ns > 0 for ns in times) for times in run.times_ns)
        assert run.peak_rss_kb and run.peak_rss_kb > 0


@pytest.mark.slow
@pytest.mark.parametrize("language", TYPED)
async def test_a_bigger_input_takes_longer_even_for_a_scalar_result(problems, language):
    # HumanEval/35 max_element: one number back from a pass over the whole list. Were the call optimised
    # away (its result unused), both sizes would take the same few nanoseconds.
    small, big = [1, 5, 3], [(i * 7919) % 1_000_003 for i in range(1_000_000)]
    _, run = await harness(problems, language, 35, [(small,), (big,)], warmups=1, runs=3)
    assert run.verdict.passed, run.verdict.diagnostics
    median_small, median_big = (sorted(times)[1] for times in run.times_ns)
    print(language, median_small, median_big)
    assert median_big > median_small


@pytest.mark.slow
@pytest.mark.parametrize("language", TYPED)
async def test_crashing_looping_and_broken_candidates_get_clear_verdicts(problems, language):
    problem = problems[(language, 35)]
    opener = len(problem.stub_source) - len(language_spec(language).stub_closer)  # the body starts here
    crash, loop, broken = _broken_versions(language, problem.reference_source, opener)
    _, crashed = await harness(problems, language, 35, [([1, 2],)], source=crash)
    assert crashed.verdict.outcome == Outcome.TEST_FAILED and crashed.verdict.diagnostics, crashed
    _, looped = await harness(problems, language, 35, [([1, 2],)], source=loop, limits=Limits(wall_seconds=3))
    assert looped.verdict.outcome == Outcome.TIMEOUT, looped
    _, built = await harness(problems, language, 35, [([1, 2],)], source=broken)
    assert built.verdict.outcome == Outcome.COMPILE_ERROR and built.verdict.diagnostics, built


@pytest.mark.slow
async def test_versions_timed_in_turns_each_get_every_call_and_a_crash_stays_its_own(problems):
    # Go: the canonical max_element and a version that crashes, each built once, run round after round in
    # turns; the good one's calls are all there (paired with the other's by round), the crash is only its own.
    problem = problems[("go", 35)]
    opener = len(problem.stub_source) - len(language_spec("go").stub_closer)
    crash, _, _ = _broken_versions("go", problem.reference_source, opener)
    signature = signature_of("go", 35)
    inputs = encode_cases(signature.param_types, [([3, 9, 2],), ([4, 1],)])
    versions = [
        (problem.reference_source, signature, inputs),
        (crash, signature, inputs),
        (problem.reference_source, signature, inputs),
    ]
    good, crashed, again = await run_in_turns("go", versions, warmups=1, runs=6, limits=LIMITS)
    assert good.verdict.passed and again.verdict.passed, (good, again)
    assert [len(times) for times in good.times_ns] == [len(times) for times in again.times_ns] == [6, 6]
    assert decode_results(signature.returns, good.results, 2) == [9, 4]
    assert crashed.verdict.outcome == Outcome.TEST_FAILED and "scripted crash" in crashed.verdict.diagnostics


def _broken_versions(language: str, reference: str, opener: int) -> tuple[str, str, str]:
    """The canonical max_element with, first in its body, a crash, an endless loop, or a type error."""
    statements = {
        "java": ("if (l.size() > 0) throw new IllegalStateException(\"scripted crash\");",
                 "while (l.size() > 0) { l.add(1); l.remove(l.size() - 1); }", "int broken = \"text\";"),
        "cpp": ("if (l.size() > 0) abort();", "while (l.size() > 0) { l.push_back(1); l.pop_back(); }",
                "int broken = string(\"text\");"),
        "go": ("if len(l) > 0 { panic(\"scripted crash\") }", "for len(l) > 0 { l = append(l[:1], l[1:]...) }",
               "var broken int = \"text\"; _ = broken"),
        "rust": ("if nmbs.len() > 0 { panic!(\"scripted crash\"); }",
                 "let mut n = nmbs.len(); while n > 0 { n = std::hint::black_box(n); }",
                 "let broken: i32 = \"text\";"),
    }[language]  # fmt: skip
    return tuple(f"{reference[:opener]}\n    {s}\n{reference[opener:]}" for s in statements)  # type: ignore[return-value]
