"""Problems per minute of `perforch profile`: local (asyncio) vs `--ray auto` on a one-node Ray cluster on
the same machine, with the scripted models of tests/humaneval_models.py answering after `--delay` seconds.

Runs itself inside a network namespace that has only loopback (`unshare --net --pid`, as the Ray tests do):
Ray would otherwise bind the machine's interface address. Prints the wall time of each whole command (start-up
included), problems per minute, Ray's overhead, the seconds per problem, and what N such nodes would give.
Run from the repository root, as root (or where `unshare --map-root-user` works):

    python3 benchmarks/ray_scaling.py [--limit 20] [--languages python] [--delay 0.5] [--jobs 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from humaneval_models import BENCHMARK, HumanEvalModels  # noqa: E402
from perforch.orchestration.rankings.profiles import load_profile  # noqa: E402
from scripted_server import Reply, start_scripted_server  # noqa: E402
from test_profile_eval import MODELS, write_config  # noqa: E402

INSIDE = "PERFORCH_BENCH_NETNS"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=20, help="problems per language")
    parser.add_argument("--languages", default="python")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds each scripted answer takes")
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    if os.environ.get(INSIDE) != "1":
        sys.exit(_in_namespace())
    models = HumanEvalModels()
    with (
        start_scripted_server(lambda m, msgs: Reply(models(m, msgs), delay=args.delay)) as server,
        tempfile.TemporaryDirectory(prefix="rayb", dir="/tmp") as scratch,
    ):
        root = Path(scratch)
        write_config(root / "perforch.toml", server.base_url)
        sample = ["--benchmark", str(BENCHMARK), "--languages", args.languages, "--limit", str(args.limit)]
        command = ["profile", *sample, "--models", ",".join(MODELS), "--jobs", str(args.jobs)]
        problems = args.limit * len(args.languages.split(","))
        local = _timed(root, "local", [*command, "--out", str(root / "local.toml")])
        head = _start_head(root)
        try:
            ray = _timed(root, "ray", [*command, "--out", str(root / "ray.toml"), "--ray", "auto"])
        finally:
            os.killpg(head.pid, signal.SIGTERM)
            head.wait(timeout=60)
        same = load_profile(root / "local.toml").cells == load_profile(root / "ray.toml").cells
    print(f"\n{problems} problems, {len(MODELS)} models, scripted answers after {args.delay} s, --jobs {args.jobs}")
    for label, seconds in (("local", local), ("ray (1 node)", ray)):
        rate = problems / seconds * 60
        print(f"{label:<14}{seconds:8.1f} s  {rate:6.1f} problems/min  {seconds / problems:.2f} s/problem")
    print(f"Ray overhead on one node: {(ray / local - 1) * 100:+.1f}% (start-up of the cluster's runners included)")
    print("N nodes like this one (per-problem cost divided by N; model limits not binding):")
    for nodes in (1, 2, 4, 8):
        print(f"  {nodes} node(s): ~{problems / (ray / nodes) * 60:.0f} problems/min")
    print(f"the Ray profile equals the local one: {same}")


def _in_namespace() -> int:
    namespace = ["unshare", "--net", "--pid", "--fork", "--mount-proc"]
    if os.geteuid() != 0:
        namespace.append("--map-root-user")
    ip = shutil.which("ip") or "/usr/sbin/ip"
    inner = f"{ip} link set lo up && {INSIDE}=1 exec {sys.executable} {' '.join(sys.argv)}"
    return subprocess.call([*namespace, "bash", "-c", inner])


def _env(root: Path) -> dict:
    return {
        **os.environ,
        "PERFORCH_TEST_KEY": "sk-test",
        "PERFORCH_DATA_DIR": str(root / "data"),
        "PERFORCH_CONFIG_DIR": str(root / "user-config"),
        "RAY_ADDRESS": "127.0.0.1:6379",
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def _timed(root: Path, label: str, args: list[str]) -> float:
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "perforch.cli", *args], cwd=root, env=_env(root), capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    if run.returncode != 0:
        sys.exit(f"{label} failed:\n{run.stderr[-5000:]}")
    print(f"{label}: {seconds:.1f} s", flush=True)
    return seconds


def _start_head(root: Path) -> subprocess.Popen:
    import ray

    ray_cli = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    cpus = str(os.cpu_count() or 1)
    head = [ray_cli, "start", "--head", "--port", "6379", "--temp-dir", temp, "--num-cpus", cpus, "--block"]
    head += ["--include-dashboard=false", "--disable-usage-stats"]
    process = subprocess.Popen(head, env=_env(root), start_new_session=True, stdout=subprocess.DEVNULL)
    ray.init(address="127.0.0.1:6379", log_to_driver=False, logging_level="ERROR")
    ray.shutdown()
    return process


if __name__ == "__main__":
    main()
