"""Ranked vs exhaustive refinement ([pipeline] refine) on ENAMEL's Python problems, with scripted refiners of
complementary strength, after `perforch profile` has ranked them.

Three scripted models on the scripted OpenAI-compatible server (tests/scripted_server.py), all priced alike
(a small model's price) so the refine stage's dollars are reported too. Each writes HumanEvalPack's canonical
solution and classifies a problem as `string` when its signature takes or returns a str, else `math`. Asked
to refine (tests/enamel_models.py has the answers):
- `string-refiner` answers with ENAMEL's expert reference on string problems, a slower one elsewhere;
- `math-refiner` answers with the expert reference on math problems, a renamed (no gain) one elsewhere;
- `idle-refiner` returns the code it was shown.
So only the category's right refiner can improve a problem. The real CLI runs `perforch profile` over the
same ENAMEL problems (the refine stage scores each model on the canonical solution), then `perforch eval
--profile` with `refine = "ranked"` (the profiled walk, `refiners` models, each from the fastest version so
far; once per --refiners count) and with `refine = "exhaustive"` (every refiner from the same passing
version, the fastest kept). Prints per mode: coverage (share of solved problems improved), median speed-up
(first passing / final version, hidden inputs) over the solved problems and over the improved ones, refine
tokens and dollars, each beside the paper's figure (ranked reaches exhaustive's coverage at about 50% of its
refine tokens). Run from the repository root:

    python3 benchmarks/refine_modes.py [--limit N (default 12)] [--refiners 1,2] [--with-slow]

ENAMEL's problems whose canonical solution does not finish the hidden inputs within the deadline (measured by
benchmarks/efficiency_canonical.py, listed in CANONICAL_TIMED_OUT) are left out unless --with-slow: each costs
minutes of deadline-bound timing per run on a shared 2-core machine and says nothing more about the two modes.
Speed is measured, so a problem near the keep threshold (1.10x) can come out improved in one run and not in
another: compare coverage with that in mind. Python only: ENAMEL's expert reference is Python code.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from enamel_models import ENAMEL, EXPERT, RENAMER, SLOWER, EnamelModels  # noqa: E402
from humaneval_models import _current_implementation  # noqa: E402
from scripted_server import start_scripted_server  # noqa: E402

STRING_REFINER, MATH_REFINER, IDLE_REFINER = "string-refiner", "math-refiner", "idle-refiner"
MODELS = (STRING_REFINER, MATH_REFINER, IDLE_REFINER)
STRENGTH = {STRING_REFINER: "string", MATH_REFINER: "math"}
WEAK_ANSWER = {STRING_REFINER: SLOWER, MATH_REFINER: RENAMER}
PRICE = (0.15e-6, 0.60e-6)  # dollars per input, output token: a small hosted model's
# Measured with benchmarks/efficiency_canonical.py (README, "Efficiency"): the canonical solution timed out.
CANONICAL_TIMED_OUT = {0, 20, 24, 31, 36, 39, 43, 49, 55, 58, 59, 63, 96, 103, 107, 111, 127, 147, 150, 154}
PAPER_TOKEN_SHARE = 0.50  # the paper: ranked matches exhaustive's coverage at ~50% of the refine tokens


class ComplementaryRefiners(EnamelModels):
    """The three models above, as one policy for the scripted server."""

    def __call__(self, model: str, messages: list[dict]) -> str:
        system, user = messages[0]["content"], messages[-1]["content"]
        row = next(r for r in self.python.values() if r["prompt"].strip() in user)
        category = category_of(row["prompt"])
        if "classify" in system:
            return category
        if "performance" not in system:
            return super().__call__(model, messages)  # the canonical solution
        if model == IDLE_REFINER:
            self.refine_prompts.append(user)
            return f"Here you go:\n```python\n{_current_implementation(user)}\n```\n"
        answer_as = EXPERT if STRENGTH[model] == category else WEAK_ANSWER[model]
        return super().__call__(answer_as, messages)


def category_of(prompt: str) -> str:
    signatures = " ".join(re.findall(r"^def .*$", prompt, flags=re.MULTILINE))
    return "string" if re.search(r"\bstr\b", signatures) else "math"


def enamel_without(numbers: set[int], scratch: Path) -> Path:
    """A copy of the ENAMEL directory (files linked, HumanEvalPack beside it) whose csv lacks `numbers`."""
    copy = scratch / "benchmarks" / "enamel"
    copy.mkdir(parents=True)
    (scratch / "benchmarks" / "humanevalpack").symlink_to(ENAMEL.parent / "humanevalpack")
    for path in ENAMEL.iterdir():
        if path.name != "enamel.csv.gz":
            (copy / path.name).symlink_to(path)
    csv.field_size_limit(1 << 30)
    with gzip.open(ENAMEL / "enamel.csv.gz", "rt", encoding="utf-8", newline="") as source:
        rows = csv.DictReader(source)
        with gzip.open(copy / "enamel.csv.gz", "wt", encoding="utf-8", newline="") as target:
            kept = csv.DictWriter(target, fieldnames=rows.fieldnames)
            kept.writeheader()
            kept.writerows(r for r in rows if int(r["task_id"].split("/")[1]) not in numbers)
    return copy


def write_config(path: Path, base_url: str, refine: str, refiners: int) -> None:
    tables = [
        f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        f"input_cost_per_token = {PRICE[0]}\noutput_cost_per_token = {PRICE[1]}\n"
        for m in MODELS
    ]
    pipeline = (
        f"[pipeline]\nmodels = {json.dumps(list(MODELS))}\ngenerators = 1\ndebuggers = 1\n"
        f'refiners = {refiners}\nrefine = "{refine}"\n'
    )
    path.write_text("\n".join([*tables, pipeline]))


def perforch(*args: str, cwd: Path) -> dict | str:
    env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test", "PERFORCH_DATA_DIR": str(cwd / "data")}
    env["PERFORCH_CONFIG_DIR"] = str(cwd / "user-config")
    started = time.monotonic()
    command = [sys.executable, "-m", "perforch.cli", *args]
    run = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    print(f"perforch {args[0]}: {time.monotonic() - started:.0f} s", flush=True)
    if run.returncode != 0:
        sys.exit(f"perforch {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout) if "--json" in args else run.stdout


def refine_rankings(profile_text: str) -> str:
    """The refine sections of `perforch profile`'s printed matrix: the order the ranked walk follows."""
    kept, keep = [], False
    for line in profile_text.splitlines():
        if not line.startswith("    "):  # a section header ("  refine (category x): ...") or the end of one
            keep = line.startswith("  refine")
        if keep:
            kept.append(line)
    return "\n".join(kept)


def summary(python: dict) -> dict:
    gains = [p["speedup"] for p in python["problems"] if p["improved"] and p["speedup"]]
    return {
        "solved": python["solved"],
        "improved": python["improved"],
        "coverage": python["improved_share"],
        "median_speedup": python["median_speedup"],
        "median_improved": round(statistics.median(gains), 2) if gains else None,
        "refine_tokens": python["tokens_per_stage"].get("refine", 0),
        "refine_usd": python.get("cost_usd_per_stage", {}).get("refine", 0.0),
        "improved_ids": sorted(p["task_id"] for p in python["problems"] if p["improved"]),
    }


def print_table(rows: dict[str, dict]) -> None:
    exhaustive = rows["exhaustive"]
    print(
        f"\n{'mode':<24}{'solved':>7}{'coverage':>15}{'median x':>10}{'(improved)':>12}{'refine tokens':>15}"
        f"{'refine $':>11}"
    )
    for mode, r in rows.items():
        coverage = f"{r['improved']} ({r['coverage']:.0%})"
        median = f"{r['median_speedup']:.2f}x" if r["median_speedup"] else "-"
        improved = f"{r['median_improved']:.2f}x" if r["median_improved"] else "-"
        print(
            f"{mode:<24}{r['solved']:>7}{coverage:>15}{median:>10}{improved:>12}{r['refine_tokens']:>15,}"
            f"{r['refine_usd']:>11.6f}"
        )
    print("\nranked against exhaustive (ours | paper):")
    for mode, r in rows.items():
        if mode == "exhaustive":
            continue
        share = r["refine_tokens"] / exhaustive["refine_tokens"] if exhaustive["refine_tokens"] else float("nan")
        coverage = r["coverage"] / exhaustive["coverage"] if exhaustive["coverage"] else float("nan")
        print(
            f"  {mode}: coverage {coverage:.0%} of exhaustive's | paper: the same (100%); "
            f"refine tokens {share:.0%} of exhaustive's | paper: ~{PAPER_TOKEN_SHARE:.0%}"
        )
        missed = sorted(set(exhaustive["improved_ids"]) - set(r["improved_ids"]))
        extra = sorted(set(r["improved_ids"]) - set(exhaustive["improved_ids"]))
        if missed or extra:
            print(f"    improved by exhaustive only: {missed or '-'}; by {mode} only: {extra or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", default="12", help="first N of ENAMEL's problems")
    parser.add_argument("--with-slow", action="store_true", help="keep the problems in CANONICAL_TIMED_OUT")
    parser.add_argument("--jobs", default="2", help="problems in flight at once (the machine is shared)")
    parser.add_argument("--refiners", default="1,2", help="`refiners` counts for the ranked runs, comma-separated")
    args = parser.parse_args()
    counts = [int(n) for n in args.refiners.split(",") if n.strip()]
    with tempfile.TemporaryDirectory() as scratch, start_scripted_server(ComplementaryRefiners()) as server:
        cwd = Path(scratch)
        enamel = ENAMEL if args.with_slow else enamel_without(CANONICAL_TIMED_OUT, cwd)
        common = ["--benchmark", str(enamel), "--languages", "python", "--limit", args.limit, "--jobs", args.jobs]
        write_config(cwd / "perforch.toml", server.base_url, "ranked", 1)
        profile = cwd / "profile.toml"
        ranked = perforch("profile", *common, "--models", ",".join(MODELS), "--out", str(profile), cwd=cwd)
        print(refine_rankings(ranked))
        rows = {}
        for refine, refiners in [*(("ranked", n) for n in counts), ("exhaustive", len(MODELS))]:
            config = cwd / f"{refine}-{refiners}.toml"
            write_config(config, server.base_url, refine, refiners)
            report = perforch("eval", *common, "--profile", str(profile), "--config", str(config), "--json", cwd=cwd)
            label = f"ranked (refiners={refiners})" if refine == "ranked" else "exhaustive"
            rows[label] = summary(report["languages"]["python"])
            print(f"  {label}: {json.dumps(rows[label])}", flush=True)
    print_table(rows)


if __name__ == "__main__":
    main()
