"""`perforch eval` on EffiBench-X end to end, through the real CLI, with scripted models (tests/effibench_models.py)
on the fixtures: the real Aizu problem (io) and the functional Two Sum fixture. Prints pass@1 and efficiency per
language beside the paper's 95.83% pass@1, for each pool:

- `canonical`: one model answering the canonical solution (Rust: the tests' own answer), so pass@1 is 100% by
  construction and efficiency shows the measurement (the same program timed twice: its noise floor);
- `routed`: `wrong` generates a broken draft, `wrong` then `fixer` debug it, shown only the visible failures;
- `overfit`: a Python program that prints the shown examples' outputs (0% by construction: scored on all tests).

These are scripted models, not the paper's: the numbers show the harness runs and scores, not how good a model
is. Rust has no functional runner (the data has none), so Two Sum is left out in Rust.

    python benchmarks/effibench_eval.py [--languages python,java,cpp,go,rust] [--pools canonical,routed,overfit]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from effibench_models import CANONICAL, FIXER, MODELS, OVERFIT, WRONG, EffiBenchModels, write_fixtures  # noqa: E402
from scripted_server import start_scripted_server  # noqa: E402

POOLS = {
    "canonical": ["--single-model", CANONICAL],
    "routed": ["--profile", "default"],  # [pipeline].models: wrong, then fixer
    "overfit": ["--single-model", OVERFIT],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--languages", default="python,java,cpp,go,rust")
    parser.add_argument("--pools", default="canonical,routed,overfit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, start_scripted_server(EffiBenchModels(), models=MODELS) as server:
        root = Path(tmp)
        tables = [
            f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{server.base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
            for m in MODELS
        ]
        pipeline = f'[pipeline]\nmodels = ["{WRONG}", "{FIXER}"]\ngenerators = 1\ndebuggers = 2\ndebug_rounds = 1\n'
        (root / "perforch.toml").write_text("\n".join([*tables, pipeline]))
        benchmark = write_fixtures(root / "effibench")
        env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test", "PERFORCH_DATA_DIR": str(root / "data")}
        env["PERFORCH_CONFIG_DIR"] = str(root / "config")
        for pool in args.pools.split(","):
            languages = "python" if pool == "overfit" else args.languages
            command = [sys.executable, "-m", "perforch.cli", "eval", "--benchmark", str(benchmark)]
            command += ["--languages", languages, *POOLS[pool], "--json"]
            started = time.monotonic()
            run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
            if run.returncode != 0:
                raise SystemExit(run.stderr[-3000:])
            _print(pool, json.loads(run.stdout), time.monotonic() - started)


def _print(pool: str, report: dict, seconds: float) -> None:
    print(f"\npool {pool} ({report['mode']}), {seconds:.0f} s")
    print(
        f"{'language':<9}{'total':>6}{'solved':>7}{'pass@1':>8}{'paper':>8}{'efficiency':>11}{'improved':>9}"
        "  tokens per stage"
    )
    paper = report["paper"]["pass@1"]
    for language, s in report["languages"].items():
        eff = "-" if s["efficiency"] is None else f"{s['efficiency']:.2f}"
        tokens = ", ".join(f"{stage} {n}" for stage, n in s["tokens_per_stage"].items())
        print(
            f"{language:<9}{s['total']:>6}{s['solved']:>7}{s['pass@1']:>8.1%}{paper:>8.1%}{eff:>11}"
            f"{s['improved']:>9}  {tokens}"
        )
        for task_id, detail in s["unsolved"].items():
            print(f"{'':<9}unsolved {task_id}: {detail.splitlines()[0] if detail else ''}")
    for task_id, why in report["left_out"].items():
        print(f"{'':<9}left out {task_id}: {why}")
    print(f"overall pass@1 {report['pass@1']:.1%} (paper: {paper:.2%}), tokens {report['tokens']}")


if __name__ == "__main__":
    main()
