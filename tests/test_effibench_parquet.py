"""`perforch effibench unpack`: a parquet file written here from the fixtures (the real Aizu record and the
functional Two Sum one) in the hub's layout (one row per problem, nested per-language structs, absent languages
null) is unpacked by the real CLI into problem files that load as the JSON fixtures do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from effibench_models import YOKOHAMA, two_sum_record, write_fixtures
from perforch.orchestration.efficiency.effibench import load_effibench


def _perforch(tmp_path, *args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFORCH_DATA_DIR": str(tmp_path / "data"), "PERFORCH_CONFIG_DIR": str(tmp_path / "c")}
    command = [sys.executable, *python, *args]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def _hub_parquet(path):
    """The fixtures as the hub's `default/test/0000.parquet`, plus a row without a slug (skipped upstream)."""
    rows = [json.loads(YOKOHAMA.read_text()), two_sum_record()]
    rows.append({**two_sum_record(), "title_slug": None})
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_the_hubs_parquet_unpacks_into_problem_files_that_load_as_the_json_does(tmp_path):
    _hub_parquet(tmp_path / "hub" / "default" / "test" / "0000.parquet")
    run = _perforch(tmp_path, "-m", "perforch.cli", "effibench", "unpack", str(tmp_path / "hub"), "--out", "unpacked")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "wrote 2 problem files" in run.stdout and "1 rows without a source, id or title slug" in run.stdout
    unpacked = load_effibench(tmp_path / "unpacked")
    expected = load_effibench(write_fixtures(tmp_path / "json"))
    assert [p.key for p in unpacked] == ["aizu_1444_yokohama-phenomena", "leetcode_1_two-sum"]
    assert unpacked == expected  # every field the harness reads: tests, solutions, runners, evaluator, starter
    assert unpacked[1].runners.keys() == {"python", "go", "java", "cpp", "rust"} and unpacked[0].runners == {}


def test_without_pyarrow_the_error_says_which_extra_to_install(tmp_path):
    blocked = "import sys; sys.modules['pyarrow'] = None; from perforch.cli import main; sys.exit(main())"
    run = _perforch(tmp_path, "effibench", "unpack", str(tmp_path), "--out", "x", python=("-c", blocked))
    assert run.returncode == 2 and "pip install 'perforch[parquet]'" in run.stderr


def test_a_file_that_is_not_parquet_is_named_in_the_error(tmp_path):
    (tmp_path / "broken.parquet").write_text("not parquet")
    run = _perforch(tmp_path, "-m", "perforch.cli", "effibench", "unpack", "broken.parquet", "--out", "x")
    assert run.returncode == 2 and "broken.parquet: not a readable parquet file" in run.stderr
