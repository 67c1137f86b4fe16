"""Profile and evaluate three scripted models with complementary strengths over HumanEvalPack.

Starts the scripted OpenAI-compatible server on 127.0.0.1 (tests/scripted_server.py), writes a perforch.toml
for it in a scratch directory, then runs the real CLI: `perforch profile`, `perforch eval --profile`, and
`perforch eval --single-model` for each model, on the routed run's budget and with `--one-attempt`. The routed
eval runs with each `[pipeline] fallback` ("breadth-first" and the paper's "per-generator"). Prints pass@1 per
language, tokens, wall seconds and peak memory of each eval (ru_maxrss of the child), then, beside the paper's
figures, routed against the best single model on the same budget per language, and the two fallback orders.
Run from the repository root:

    python3 benchmarks/complementary.py [--limit N] [--languages python,rust]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from humaneval_models import BENCHMARK, HumanEvalModels  # noqa: E402
from perforch.orchestration.config import FALLBACKS  # noqa: E402
from scripted_server import start_scripted_server  # noqa: E402
from test_profile_eval import MODELS, perforch, write_config  # noqa: E402

# The PerfOrch paper (Chen et al., arXiv 2510.01379). Issue 15 quotes 97.19% for the routed pipeline on HumanEval-X;
# v1's abstract gives 96.22%, against 78.66% for its best single-model baseline (GPT-4o). Per-language figures
# and a breadth-first fallback are not published there.
PAPER_ROUTED = "routed 97.19% pass@1 on HumanEval-X (v1 abstract: 96.22%)"
PAPER_SINGLE = "best single model GPT-4o 78.66%: routed beats the best single model"
PAPER_FALLBACK = "per-generator is the paper's order; it publishes no breadth-first figure"


def _timed(label: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    run = perforch(*args, cwd=cwd)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    note = f"peak RSS {peak / 1024:.0f} MB" if peak > before else "peak RSS below an earlier run's"
    print(f"{label}: {seconds:.1f} s, {note}", flush=True)
    if run.returncode != 0:
        sys.exit(f"{label} failed:\n{run.stderr}")
    return run


def _pass_rates(report: dict) -> str:
    rates = [f"{lang} {s['solved']}/{s['total']} ({s['pass@1']:.1%})" for lang, s in report["languages"].items()]
    solved = sum(s["solved"] for s in report["languages"].values())
    total = sum(s["total"] for s in report["languages"].values())
    return f"{'; '.join(rates)}; overall {solved}/{total} ({solved / total:.1%})"


def _rate(report: dict, language: str) -> float:
    return report["languages"][language]["pass@1"]


def _print_against_paper(routed: dict[str, dict], same_budget: dict[str, dict]) -> None:
    """Per language: the routed run (the paper's fallback) against the best single model there, each single model
    on the routed run's budget (`same_budget`: model -> report)."""
    paper_order = routed["per-generator"]
    print("\nrouted vs the best single model on the same budget, per language (ours | paper):")
    for language in paper_order["languages"]:
        best = max(same_budget, key=lambda mode: _rate(same_budget[mode], language))
        ours, theirs = _rate(paper_order, language), _rate(same_budget[best], language)
        print(f"  {language:<6} routed {ours:.1%}, best single {theirs:.1%} ({best})")
    solved = sum(s["solved"] for s in paper_order["languages"].values())
    total = sum(s["total"] for s in paper_order["languages"].values())
    best_overall = max(sum(s["solved"] for s in r["languages"].values()) / total for r in same_budget.values())
    print(
        f"  overall routed {solved / total:.1%}, best single {best_overall:.1%} | paper: {PAPER_ROUTED}; {PAPER_SINGLE}"
    )
    print("fallback order, pass@1 and tokens (ours | paper):")
    for fallback, report in routed.items():
        rate = sum(s["solved"] for s in report["languages"].values()) / total
        print(f"  {fallback:<14} {rate:.1%}, {report['tokens']:,} tokens")
    print(f"  paper: {PAPER_FALLBACK}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", default="164")
    parser.add_argument("--languages", default="python,java,cpp,go,rust")
    args = parser.parse_args()
    common = ["--benchmark", str(BENCHMARK), "--limit", args.limit, "--languages", args.languages]
    with tempfile.TemporaryDirectory() as scratch, start_scripted_server(HumanEvalModels()) as server:
        cwd = Path(scratch)
        write_config(cwd / "perforch.toml", server.base_url)
        profile = cwd / "profile.toml"
        routed_reports: dict[str, dict] = {}
        singles: dict[str, dict] = {}
        run = _timed("profile", "profile", *common, "--models", ",".join(MODELS), "--out", str(profile), cwd=cwd)
        print(run.stdout)
        for fallback in FALLBACKS:
            config = cwd / f"{fallback}.toml"
            config.write_text((cwd / "perforch.toml").read_text() + f'fallback = "{fallback}"\n')
            routed = ["eval", *common, "--profile", str(profile), "--config", str(config), "--json"]
            report = json.loads(_timed(f"eval --profile, fallback {fallback}", *routed, cwd=cwd).stdout)
            print(f"  routed, {fallback}: {_pass_rates(report)}; {report['tokens']} tokens")
            routed_reports[fallback] = report
        for model in MODELS:
            for budget in ([], ["--one-attempt"]):
                label = f"eval --single-model {model} {' '.join(budget)}".rstrip()
                single = json.loads(
                    _timed(label, "eval", *common, "--single-model", model, *budget, "--json", cwd=cwd).stdout
                )
                print(f"  {single['mode']}: {_pass_rates(single)}; {single['tokens']} tokens")
                if not budget:
                    singles[model] = single
    _print_against_paper(routed_reports, singles)


if __name__ == "__main__":
    main()
