"""Refinement on measured speed, on ENAMEL's Python problems: `perforch eval` through the real CLI against a
scripted model that writes HumanEvalPack's canonical solution and, asked to refine, answers with ENAMEL's
expert reference (tests/enamel_models.py). Prints the eval table, then the share of problems where the expert
reference is at least 2x faster than the canonical solution (both timed in the scoring run) that eval reports
improved (target >= 80%), with each one's measured speed-up.

    python benchmarks/efficiency_refine.py [--limit N]
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

from enamel_models import ENAMEL, EXPERT, EnamelModels  # noqa: E402
from scripted_server import start_scripted_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="first N problems of ENAMEL's set")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, start_scripted_server(EnamelModels(), models=(EXPERT,)) as server:
        root = Path(tmp)
        (root / "perforch.toml").write_text(
            f'[models.{EXPERT}]\nmodel = "openai/{EXPERT}"\napi_base = "{server.base_url}"\n'
            'api_key_env = "PERFORCH_TEST_KEY"\n\n[pipeline]\nmodels = ["expert"]\ngenerators = 1\nrefiners = 1\n'
        )
        env = {**os.environ, "PERFORCH_TEST_KEY": "sk-test", "PERFORCH_DATA_DIR": str(root / "data")}
        env["PERFORCH_CONFIG_DIR"] = str(root / "config")
        command = [sys.executable, "-m", "perforch.cli", "eval", "--benchmark", str(ENAMEL), "--languages", "python"]
        command += ["--single-model", EXPERT, "--json"] + (["--limit", str(args.limit)] if args.limit else [])
        started = time.monotonic()
        run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(run.stderr[-3000:])
    report = json.loads(run.stdout)
    python = report["languages"]["python"]
    print(f"eval of {python['total']} problems took {time.monotonic() - started:.0f} s")
    print(json.dumps({k: v for k, v in python.items() if k != "problems"}, indent=1))
    fast = [p for p in python["problems"] if (p["expert_vs_canonical"] or 0) >= 2.0]
    improved = [p for p in fast if p["improved"]]
    share = len(improved) / len(fast) if fast else 0.0
    print(f"expert >= 2x faster than canonical on {len(fast)} problems; improved on {len(improved)} ({share:.0%})")
    for p in fast:
        mark = "improved" if p["improved"] else "NOT improved"
        print(f"  {p['task_id']}: expert {p['expert_vs_canonical']:.2f}x, measured {p['speedup']:.2f}x, {mark}")
    for p in python["problems"]:
        if p["note"]:
            print(f"  {p['task_id']}: {p['note']}")


if __name__ == "__main__":
    main()
