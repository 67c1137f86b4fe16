"""The ranking matrix: fallbacks, restriction to available models, TOML round trip, clear errors."""

import pytest
from perforch.orchestration.memory import (
    ProfileError,
    Provenance,
    RankedModel,
    RankingMatrix,
    load_profile,
    save_user_profile,
)


def _matrix() -> RankingMatrix:
    m = RankingMatrix(provenance=Provenance(benchmark="humanevalpack", date="2026-11-24", models=("a", "b", "c")))
    m.set("generate", "rust", "*", [RankedModel("a", 0.5, 10), RankedModel("b", 0.9, 10)])
    m.set("generate", "rust", "string", [RankedModel("c", 1.0, 3)])
    return m


def test_cells_are_ordered_by_score():
    assert [r.model for r in _matrix().cell("generate", "rust")] == ["b", "a"]


def test_category_cell_then_language_row_then_default_order():
    m = _matrix()
    assert m.ranked("generate", "rust", "string", default_order=["d", "a"]) == ["c", "b", "a", "d"]
    assert m.ranked("generate", "rust", "graph", default_order=["d"]) == ["b", "a", "d"]
    assert m.ranked("debug", "rust", "graph", default_order=["d", "e"]) == ["d", "e"]


def test_ranking_is_restricted_to_available_models():
    assert _matrix().ranked("generate", "rust", "string", available={"a", "c"}) == ["c", "a"]


def test_toml_round_trip_keeps_cells_and_provenance():
    m = _matrix()
    again = RankingMatrix.from_toml(m.to_toml())
    assert again.cells == m.cells
    assert again.provenance == m.provenance


def test_bad_profile_names_the_file_and_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[cells]]\nstage = "generate"\nlanguage = "cobol"\n')
    with pytest.raises(ProfileError, match=r"bad.toml: cells\[0\].language: expected one of python"):
        load_profile(bad)
    bad.write_text("[[cells]\n")
    with pytest.raises(ProfileError, match="bad.toml: not valid TOML"):
        load_profile(bad)


def test_unknown_profile_name_lists_what_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("PERFORCH_DATA_DIR", str(tmp_path))
    with pytest.raises(ProfileError, match="shipped profile \\(default\\)"):
        load_profile("nonesuch")


def test_user_profile_is_laid_over_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PERFORCH_DATA_DIR", str(tmp_path))
    path = save_user_profile("default", _matrix())
    assert path.parent == tmp_path / "profiles"
    loaded = load_profile("default")
    assert loaded.ranked("generate", "rust") == ["b", "a"]
