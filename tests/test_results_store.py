"""The results store on its own, on real files: what a kill mid-write leaves, a fresh start, a damaged store."""

from __future__ import annotations

import json

import pytest
from perforch.orchestration.results import ResultsError, ResultsStore, StoreSubject

SUBJECT = StoreSubject("profile", "humanevalpack", ("a", "b"))


def test_a_line_torn_by_a_kill_is_dropped_and_the_next_record_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "run.results.jsonl"
    first = ResultsStore.start(SUBJECT, path, resume=False)
    first.add("Python/0", {"language": "python", "events": []})
    with path.open("a") as file:
        file.write('{"unit": "Python/1", "run": "x", "rec')  # the kill came mid-write

    resumed = ResultsStore.start(SUBJECT, path, resume=True)
    assert set(resumed.records) == {"Python/0"}
    resumed.add("Python/1", {"language": "python", "events": [["generate", "math", "a", True]]})
    lines = path.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # no torn line left behind
    again = ResultsStore.read(path)
    assert set(again.records) == {"Python/0", "Python/1"}
    assert again.producer["Python/0"] == first.run_id and again.producer["Python/1"] == resumed.run_id
    assert [run["resumed_units"] for run in again.runs] == [0, 1]


def test_a_fresh_run_keeps_the_earlier_store_as_previous(tmp_path):
    path = tmp_path / "run.results.jsonl"
    ResultsStore.start(SUBJECT, path, resume=False).add("Python/0", {"events": []})
    fresh = ResultsStore.start(SUBJECT, path, resume=False)
    assert fresh.records == {}
    assert set(ResultsStore.read(tmp_path / "run.results.jsonl.previous").records) == {"Python/0"}


def test_a_damaged_store_is_named_with_its_line(tmp_path):
    path = tmp_path / "run.results.jsonl"
    ResultsStore.start(SUBJECT, path, resume=False).add("Python/0", {"events": []})
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], "garbage", *lines[1:]]) + "\n")
    with pytest.raises(ResultsError, match=r"run.results.jsonl:2: not a JSON line"):
        ResultsStore.read(path)
    (tmp_path / "other.jsonl").write_text('{"hello": 1}\n')
    with pytest.raises(ResultsError, match="not a PerfOrch results store"):
        ResultsStore.read(tmp_path / "other.jsonl")
