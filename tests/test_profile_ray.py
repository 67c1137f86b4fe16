"""Profiling on a Ray cluster, in a network namespace that has only loopback.

Tests may send traffic to loopback only, and Ray 2.60 binds the machine's interface address even when told
`--node-ip-address 127.0.0.1`; in a namespace of its own whose only interface is `lo`, it uses 127.0.0.1.
The cases (ray_cases.py) run in a pytest of their own inside `unshare --net --pid` (with `--map-root-user`
when not root), so the whole cluster also ends with them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.mark.slow
@pytest.mark.heavy  # about 100 s of a 30-minute CI; `pytest -m heavy` runs it
def test_profiling_on_a_local_ray_cluster_in_a_loopback_only_namespace():
    import ray  # noqa: F401  (perforch[ray] is part of the test install: a missing ray fails here, loudly)

    namespace = ["unshare", "--net", "--pid", "--fork", "--mount-proc"]
    if os.geteuid() != 0:
        namespace.append("--map-root-user")
    ip = shutil.which("ip") or "/usr/sbin/ip"
    cases = f"{sys.executable} -m pytest -q -p no:cacheprovider --durations=8 {TESTS / 'ray_cases.py'}"
    inner = f"{ip} link set lo up && {cases}"
    run = subprocess.run(
        [*namespace, "bash", "-c", inner], cwd=TESTS.parent, capture_output=True, text=True, timeout=1500
    )
    print(run.stdout[-6000:])
    assert run.returncode == 0, run.stdout[-10000:] + run.stderr[-3000:]
    assert "4 passed" in run.stdout
