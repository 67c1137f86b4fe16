"""The three routing policies ([pipeline] route) on priced scripted models: pass@1 and dollars side by side.

Four scripted models on the scripted OpenAI-compatible server (tests/scripted_server.py), each priced through
litellm's custom pricing (`input_cost_per_token` / `output_cost_per_token` in its [models.*] table, which
litellm registers and prices every answer by):

- `strong` writes correct code in every language, and is dear;
- `writer-pg` (correct in Python and Go), `writer-jcr` (Java, C++, Rust, wrong on one problem in ten) and
  `fixer` (repairs others' code) from tests/humaneval_models.py, each far cheaper.

It runs the real CLI: `perforch profile` (which measures each model's pass rate and its tokens and dollars per
attempt), then `perforch eval --profile` once per route (quality, cost, balanced), and prints per language
pass@1 and dollars, and the totals. Run from the repository root:

    python3 benchmarks/cost_routes.py [--limit N] [--languages python,java]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from humaneval_models import BENCHMARK, FIXER, WRITER_JCR, WRITER_PG, HumanEvalModels  # noqa: E402
from perforch.orchestration.config import ROUTES  # noqa: E402
from scripted_server import start_scripted_server  # noqa: E402
from test_profile_eval import perforch  # noqa: E402

STRONG = "strong"
# Dollars per token (input, output): the strong model at a frontier model's price, the others at a small one's.
PRICES = {STRONG: (5e-6, 15e-6), WRITER_PG: (0.15e-6, 0.6e-6), WRITER_JCR: (0.15e-6, 0.6e-6), FIXER: (0.1e-6, 0.4e-6)}


class PricedModels(HumanEvalModels):
    """The scripted models of humaneval_models, and `strong`, which writes the canonical solution everywhere."""

    def _write(self, model: str, language: str, row: dict) -> str:
        if model == STRONG:
            return row["prompt"] + row["canonical_solution"]
        return super()._write(model, language, row)


def _config(path: Path, base_url: str, route: str) -> None:
    tables = [
        f'[models.{m}]\nmodel = "openai/{m}"\napi_base = "{base_url}"\napi_key_env = "PERFORCH_TEST_KEY"\n'
        f"input_cost_per_token = {inp}\noutput_cost_per_token = {out}\n"
        for m, (inp, out) in PRICES.items()
    ]
    pipeline = (
        f"[pipeline]\nmodels = {json.dumps(list(PRICES))}\ngenerators = 2\ndebuggers = 1\ndebug_rounds = 1\n"
        f'refiners = 0\ntest_timeout = 30.0\nroute = "{route}"\n'
    )
    path.write_text("\n".join([*tables, pipeline]))


def _run(label: str, *args: str, cwd: Path) -> str:
    started = time.monotonic()
    run = perforch(*args, cwd=cwd)
    print(f"{label}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    if run.returncode != 0:
        sys.exit(f"{label} failed:\n{run.stderr}")
    return run.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", default="20")
    parser.add_argument("--languages", default="python,java,go")
    args = parser.parse_args()
    common = ["--benchmark", str(BENCHMARK), "--limit", args.limit, "--languages", args.languages]
    with tempfile.TemporaryDirectory() as scratch, start_scripted_server(PricedModels()) as server:
        cwd = Path(scratch)
        profile = cwd / "profile.toml"
        _config(cwd / "perforch.toml", server.base_url, "quality")
        _run("profile", "profile", *common, "--models", ",".join(PRICES), "--out", str(profile), cwd=cwd)
        reports = {}
        for route in ROUTES:
            config = cwd / f"{route}.toml"
            _config(config, server.base_url, route)
            eval_args = ["eval", *common, "--profile", str(profile), "--config", str(config), "--json"]
            reports[route] = json.loads(_run(f"eval, route {route}", *eval_args, cwd=cwd))
    _print(reports)


def _print(reports: dict[str, dict]) -> None:
    languages = list(next(iter(reports.values()))["languages"])
    header = f"{'route':<10}" + "".join(f"{lang + ' pass@1':>16}{lang + ' $':>12}" for lang in languages)
    print(header + f"{'pass@1':>10}{'dollars':>12}")
    for route, report in reports.items():
        row, solved, total = f"{route:<10}", 0, 0
        for lang in languages:
            score = report["languages"][lang]
            row += f"{score['pass@1']:>16.1%}{score['cost_usd']:>12.4f}"
            solved, total = solved + score["solved"], total + score["total"]
        print(row + f"{solved / total:>10.1%}{report['cost_usd']:>12.4f}")
    quality, cost = reports["quality"], reports["cost"]
    saving = 1 - cost["cost_usd"] / quality["cost_usd"] if quality["cost_usd"] else 0.0
    same = all(
        cost["languages"][lang]["solved"] >= quality["languages"][lang]["solved"] for lang in quality["languages"]
    )
    print(f"cost route vs quality: {'same or better' if same else 'LOWER'} pass@1, {saving:.0%} fewer dollars")


if __name__ == "__main__":
    main()
