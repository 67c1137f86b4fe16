"""The calls a function timer records: read back, turned into the function's own time per test, and compared
with the refined version's calls (the timers themselves run in test_workspace_cli.py, with the real toolchains)."""

from __future__ import annotations

from pathlib import Path

from perforch.orchestration.task import Timing
from perforch.orchestration.validation import is_faster, speedup
from perforch.orchestration.workspace.calls import Call, behaviour_change, function_timing, read_calls


def _line(*fields: str) -> str:
    return "\t".join(fields) + "\n"


def test_calls_are_read_back_with_their_escapes_and_a_cut_line_is_left_out(tmp_path: Path):
    log = tmp_path / "calls.tsv"
    log.write_text(
        _line("t.py::test_a", "1200", "='a\\tb', 'c\\\\n'", "=True")
        + _line("t.py::test_a", "300", "=[]", "=False")
        + "t.py::test_b\t12"  # the process was killed while writing
    )
    calls = read_calls(log)
    assert calls == [Call("t.py::test_a", 1200, "='a\tb', 'c\\n'", "=True"), Call("t.py::test_a", 300, "=[]", "=False")]
    assert read_calls(tmp_path / "missing.tsv") == []


def test_the_function_time_per_test_sums_its_calls_in_each_run():
    runs = [
        [Call("b", 10, "=1", "=1"), Call("a", 5, "=1", "=1"), Call("b", 20, "=2", "=2")],
        [Call("a", 7, "=1", "=1"), Call("b", 40, "=1", "=1")],
    ]
    timing = function_timing(runs)
    assert timing.case_names == ("a", "b")
    assert timing.call_ns == ((5, 7), (30, 40))
    assert function_timing([runs[0], []]) == Timing()  # a run without a call cannot be compared


def test_a_version_is_faster_only_when_every_run_of_its_own_time_beats_every_run_before():
    before = Timing(call_ns=((1000, 1100, 1050), (10, 12, 11)), case_names=("a", "b"))
    after = Timing(call_ns=((10, 12, 11), (10, 12, 11)), case_names=("a", "b"))
    overlapping = Timing(call_ns=((900, 1200, 1000), (10, 12, 11)), case_names=("a", "b"))
    assert is_faster(before, after, 1.1) and speedup(before, after) > 40
    assert not is_faster(before, overlapping, 1.1)


def test_a_call_that_returns_otherwise_than_the_refined_version_did_is_named():
    reference = [Call("t::test_x", 5, "=[5, 1, 5, 2]", "=True"), Call("t::test_x", 5, "=[]", "=False")]
    same = [Call("t::test_x", 1, "=[]", "=False"), Call("t::test_x", 1, "=[5, 1, 5, 2]", "=True")]
    wrong = [Call("t::test_x", 1, "=[]", "=False"), Call("t::test_x", 1, "=[5, 1, 5, 2]", "=False")]
    assert behaviour_change("has_duplicates", reference, same) is None
    reason = behaviour_change("has_duplicates", reference, wrong)
    assert reason is not None
    assert reason.startswith("t::test_x: has_duplicates([5, 1, 5, 2]) returned False, but the version being refined")


def test_values_without_a_stable_rendering_are_not_compared():
    reference = [Call("t", 5, "=<Node at 0x7f3a2b1c0d90>", "=1"), Call("t", 5, "=Box@1b6d3586", "=1")]
    reference += [Call("t", 5, "=3", "!")]
    calls = [Call("t", 1, "=<Node at 0x7f3a2b1c0d90>", "=2"), Call("t", 1, "=Box@1b6d3586", "=2")]
    calls += [Call("t", 1, "=3", "!")]
    assert behaviour_change("f", reference, calls) is None
