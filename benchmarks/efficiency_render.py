"""How many of ENAMEL's 142 problems the typed languages can carry: per language, the problems whose
HumanEvalPack declaration parses, whose harness source is generated, and whose ENAMEL inputs (level 0 and
the largest level, a fixed seed) encode in the declared types; the rest listed with the reason. Results
are checked apart: a Python result the declared return type cannot hold (C++ `longest` returns "" where
Python returns None) is listed, since a judge must map it.

With `--run N`, the first N renderable problems of each language are also run through the real harness
with HumanEvalPack's canonical solution, on the level-0 inputs, and the decoded results compared with the
ENAMEL reference's (exact, floats to 1e-6 relative).

    python3 benchmarks/efficiency_render.py [--languages rust,go] [--run 5]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import csv
import gzip
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from perforch.orchestration.benchmark import load_benchmark
from perforch.orchestration.checking import close_all
from perforch.orchestration.efficiency.typed_harness import run_harness
from perforch.orchestration.efficiency.values import (
    Signature,
    Unrenderable,
    decode_results,
    encode_cases,
    encode_value,
    shaped_like,
)
from perforch.orchestration.languages import language_spec
from perforch.orchestration.task import Limits

SHARED = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
EXCLUDED = {2, 23, 41, 45, 53, 60, 71, 92, 97, 99, 102, 123, 124, 135, 137, 138, 144, 148, 156, 157, 159, 160}
TYPED = ("java", "cpp", "go", "rust")
sys.set_int_max_str_digits(0)  # some reference outputs are huge integers (ENAMEL/8's product)

# Runs in a separate interpreter: the dataset's generators and reference, with the names upstream gives them.
_SAMPLER = r"""
import json, math, random, string, sys
sys.setrecursionlimit(100000)
sys.set_int_max_str_digits(0)
exec(open(sys.argv[1]).read())
row = json.loads(sys.stdin.read())
scope = dict(globals())
exec(row["input_generator"], scope)
exec(row["prompt"] + "\n" + row["reference_solution"], scope)
levels = [int(size) for size in row["input_levels"].split()]
random.seed(14)
cases = [scope["generate_input"](levels[0], 0, cid) for cid in range(4)]
cases.append(scope["generate_input"](levels[-1], 3, 0))
outputs = [scope[row["entry_point"]](*[__import__("copy").deepcopy(a) for a in case]) for case in cases]
print(repr((cases, outputs)))
"""


def enamel_rows() -> dict[int, dict]:
    csv.field_size_limit(1 << 30)
    with gzip.open(SHARED / "enamel" / "enamel.csv.gz", "rt", encoding="utf-8") as handle:
        rows = {int(row["task_id"].split("/")[1]): row for row in csv.DictReader(handle)}
    return {number: row for number, row in rows.items() if number not in EXCLUDED}


def sample(row: dict) -> tuple[list[tuple], list[object]] | str:
    """(inputs, reference outputs) or why they could not be made."""
    argv = [sys.executable, "-I", "-c", _SAMPLER, str(SHARED / "enamel" / "datautils.py")]
    try:
        done = subprocess.run(argv, input=json.dumps(row), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "the generator or reference took over 60 s"
    if done.returncode != 0:
        return "the generator failed: " + done.stderr.strip().splitlines()[-1]
    try:
        return ast.literal_eval(done.stdout)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        return f"the sample did not read back: {type(exc).__name__}"


def humanevalpack(language: str) -> list[dict]:
    with gzip.open(SHARED / "humanevalpack" / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def check(language: str, row: dict, samples: tuple[list[tuple], list[object]] | str) -> tuple[str, str, str]:
    """(why it does not render, why the largest level's input does not fit, why a result does not fit)."""
    values = language_spec(language).values()
    try:
        signature = values.parse_signature(row["signature"])
        values.harness_source(signature, "")
        if isinstance(samples, str):
            return f"no sample inputs: {samples}", "", ""
        encode_cases(signature.param_types, samples[0][:4])
    except Unrenderable as exc:
        return str(exc), "", ""
    return (
        "",
        _fails(lambda: encode_cases(signature.param_types, samples[0][4:])),
        _fails(lambda: [encode_value(signature.returns, output) for output in samples[1]]),
    )


def _fails(encode: Callable[[], object]) -> str:
    try:
        encode()
    except Unrenderable as exc:
        return str(exc)
    return ""


def close(got: object, want: object) -> bool:
    if isinstance(want, float) and isinstance(got, int | float):
        return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-6) or (math.isnan(got) and math.isnan(want))
    if isinstance(want, list | tuple) and isinstance(got, list | tuple):
        return len(got) == len(want) and all(close(g, w) for g, w in zip(got, want, strict=True))
    return got == want


async def run_some(language: str, rendered: list[tuple[int, Signature, tuple]], count: int) -> None:
    problems = {p.task_id.split("/")[1]: p for p in load_benchmark(SHARED / "humanevalpack", [language])}
    for number, signature, (cases, outputs) in rendered[:count]:
        small = cases[:4]
        run = await run_harness(
            language, problems[str(number)].reference_source, signature, encode_cases(signature.param_types, small),
            1, 3, Limits(wall_seconds=60),
        )  # fmt: skip
        if not run.verdict.passed:
            print(f"    {number}: {run.verdict.outcome.value}: {run.verdict.diagnostics[:300]}")
            continue
        results = decode_results(signature.returns, run.results, len(small))
        wrong = [i for i, (g, w) in enumerate(zip(results, outputs, strict=False)) if not close(shaped_like(g, w), w)]
        medians = [sorted(times)[len(times) // 2] for times in run.times_ns]
        print(f"    {number}: {'ok' if not wrong else f'differs on cases {wrong}'}, median ns {medians}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--languages", default=",".join(TYPED))
    parser.add_argument("--run", type=int, default=0)
    args = parser.parse_args()
    rows = enamel_rows()
    samples = {number: sample(row) for number, row in rows.items()}
    for language in args.languages.split(","):
        dataset = humanevalpack(language)
        rendered, failed, too_big, results = [], [], [], []
        for number in rows:
            reason, big, result_problem = check(language, dataset[number], samples[number])
            if reason:
                failed.append((number, reason))
                continue
            signature = language_spec(language).values().parse_signature(dataset[number]["signature"])
            rendered.append((number, signature, samples[number]))
            too_big += [(number, big)] if big else []
            results += [(number, result_problem)] if result_problem else []
        fits = len(rendered) - len(too_big)
        print(f"{language}: {len(rendered)}/{len(rows)} render; the largest level's input fits in {fits}")
        for title, listed in (("not rendered", failed), ("largest input too big", too_big), ("result", results)):
            for number, reason in listed:
                print(f"  {title} {number}: {reason[:150]}")
        if args.run:
            asyncio.run(_run_and_close(language, rendered, args.run))


async def _run_and_close(language: str, rendered: list, count: int) -> None:
    try:
        await run_some(language, rendered, count)
    finally:
        await close_all()


if __name__ == "__main__":
    main()
