"""The shipped default profile: built from published results, reproducible, with provenance on every cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from perforch.orchestration.rankings.profiles import load_profile
from perforch.orchestration.task import ANY_CATEGORY
from perforch.profiles import build

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "profiles-data"
HEADER = "model,litellm_id_guess,language,metric,value,benchmark,source_url,source_table\n"


@pytest.fixture(scope="module")
def litellm():
    return build.litellm_module()


@pytest.mark.skipif(not DATA.is_dir(), reason="shared/profiles-data is not beside the repository")
def test_the_committed_default_profile_is_what_the_build_writes(litellm):
    built = build.profile_text(build.build(DATA, litellm))
    assert (REPO / "profiles" / "default.toml").read_text(encoding="utf-8") == built, (
        "profiles/default.toml is stale: run `python -m perforch.profiles.build`"
    )


def test_the_default_profile_ranks_generation_and_repair_per_language(litellm):
    matrix = load_profile("default")
    stages = {stage for stage, _, _ in matrix.cells}
    assert stages == {"generate", "debug"}  # nothing published for refine or categorize
    assert {category for _, _, category in matrix.cells} == {ANY_CATEGORY}
    for cell, ranking in matrix.cells.items():
        source = matrix.provenance_of(cell)
        assert source.source and source.table and source.metric and source.date and source.url, cell
        assert all(build.known_to_litellm(litellm, r.model) for r in ranking), cell
        assert all(r.source_name and 0 < r.score < 1 for r in ranking), cell
    # AutoCodeBench's complementary strengths survive the litellm check.
    assert matrix.cell("generate", "java")[0].model == "deepseek/deepseek-chat"
    assert matrix.cell("generate", "rust")[0].model == "o3-2025-04-16"
    assert matrix.cell("generate", "python")[0].model == "gpt-5-2025-08-07"
    assert any("refine" in note and "generate order" in note for note in matrix.provenance.notes)
    assert any("claude-opus-4-1" in why for why in matrix.provenance.dropped)


def _write_source(directory: Path, name: str, rows: list[str], bench: str = "Bench (x)") -> None:
    lines = [f'{row},"{bench}",https://example.org/paper,Table 9\n' for row in rows]
    (directory / name).write_text(HEADER + "".join(lines), encoding="utf-8")


def test_ids_litellm_does_not_know_are_dropped_with_the_reason(tmp_path, litellm):
    _write_source(
        tmp_path,
        "autocodebench_table4.csv",
        [
            "GPT4.1 [non-reasoning mode],gpt-4.1-2025-04-14,rust,pass@1,37.2",
            "Nameless [reasoning mode],,rust,pass@1,99.0",
            "Made Up [reasoning mode],openai/not-a-model-9,rust,pass@1,98.0",
            "DeepSeek [reasoning mode],deepseek/deepseek-chat,rust,pass@1,39.2",
            "DeepSeek [non-reasoning mode],deepseek/deepseek-chat,rust,pass@1,33.2",
        ],
    )
    _write_source(tmp_path, "mdeval_leaderboard_apr.csv", ["GPT-4o,gpt-4o-2024-08-06,go,pass@1,56.6"])
    (tmp_path / "README.md").write_text("Collected 2030-01-02 from papers.\n", encoding="utf-8")
    matrix = build.build(tmp_path, litellm)

    rust = matrix.cell("generate", "rust")
    assert [(r.model, r.score, r.samples) for r in rust] == [
        ("gpt-4.1-2025-04-14", 0.372, 199),
        ("deepseek/deepseek-chat", 0.332, 199),  # the mode a plain request gets
    ]
    assert matrix.cell("debug", "go")[0].samples == 0  # the source states no count
    assert matrix.provenance_of(("generate", "rust", ANY_CATEGORY)).date == "2025-08"
    assert matrix.provenance.date == "2030-01-02"
    dropped = "\n".join(matrix.provenance.dropped)
    assert "Nameless [reasoning mode]: the data gives no litellm id" in dropped
    assert "openai/not-a-model-9 is not in litellm" in dropped
    assert "DeepSeek [reasoning mode]: same litellm id as DeepSeek [non-reasoning mode]" in dropped


def test_a_missing_source_is_a_clear_error(tmp_path, litellm):
    with pytest.raises(build.BuildError, match="autocodebench_table4.csv: not found"):
        build.build(tmp_path, litellm)
