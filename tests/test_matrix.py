"""The ranking matrix: fallbacks, restriction to available models, TOML round trip, clear errors."""

import pytest
from perforch.orchestration.rankings.matrix import CellProvenance, ProfileError, Provenance, RankedModel, RankingMatrix
from perforch.orchestration.rankings.profiles import load_profile, save_user_profile


def _matrix() -> RankingMatrix:
    m = RankingMatrix(provenance=Provenance(benchmark="humanevalpack", date="2026-11-24", models=("a", "b", "c")))
    m.set("generate", "rust", "*", [RankedModel("a", 0.5, 10), RankedModel("b", 0.9, 10)])
    m.set("generate", "rust", "string", [RankedModel("c", 1.0, 5)])
    return m


def test_cells_are_ordered_by_score():
    assert [r.model for r in _matrix().cell("generate", "rust")] == ["b", "a"]


def test_category_cell_then_language_row_then_default_order():
    m = _matrix()
    assert m.ranked("generate", "rust", "string", default_order=["d", "a"]) == ["c", "b", "a", "d"]
    assert m.ranked("generate", "rust", "graph", default_order=["d"]) == ["b", "a", "d"]
    assert m.ranked("categorize", "rust", "graph", default_order=["d", "e"]) == ["d", "e"]


def test_a_rate_from_few_samples_ranks_below_one_from_many():
    m = RankingMatrix()
    m.set("generate", "go", "*", [RankedModel.profiled("lucky", 1, 1), RankedModel.profiled("steady", 80, 100)])
    assert m.ranked("generate", "go") == ["steady", "lucky"]
    lucky, steady = sorted(m.cell("generate", "go"), key=lambda r: r.model)
    assert 0.15 < lucky.score < 0.25 and 0.7 < steady.score < 0.8  # the Wilson lower bounds, 95%
    assert (lucky.rate, lucky.samples, steady.rate) == (1.0, 1, 0.8)
    again = RankingMatrix.from_toml(m.to_toml()).cell("generate", "go")
    assert again == m.cell("generate", "go")  # rate and samples survive the file


def test_one_sample_category_cells_leave_the_order_to_the_language_row():
    """A profile whose category cells rest on one problem each: they must not reorder anything."""
    m = RankingMatrix()
    m.set("generate", "java", "*", [RankedModel("strong", 0.9, 40), RankedModel("weak", 0.4, 40)])
    m.set("generate", "java", "math", [RankedModel("weak", 1.0, 1), RankedModel("strong", 0.0, 1)])
    assert m.ranked("generate", "java", "math", default_order=["weak", "strong"]) == ["strong", "weak"]
    assert m.ranked("generate", "java", "math", min_samples=1, default_order=["weak", "strong"]) == ["weak", "strong"]


def test_ties_follow_the_language_row_then_the_generate_order_never_the_alphabet():
    m = RankingMatrix()
    m.set("generate", "rust", "*", [RankedModel("zeta", 0.8, 20), RankedModel("alpha", 0.3, 20)])
    m.set("refine", "rust", "*", [RankedModel("alpha", 0.0, 20), RankedModel("zeta", 0.0, 20)])
    assert m.ranked("refine", "rust", default_order=["alpha", "zeta"]) == ["zeta", "alpha"]
    m.set("generate", "rust", "sorting", [RankedModel("alpha", 0.5, 10), RankedModel("zeta", 0.5, 10)])
    assert m.ranked("generate", "rust", "sorting") == ["zeta", "alpha"]  # the row breaks the category's tie
    m.set("debug", "rust", "*", [RankedModel("b", 0.0, 9), RankedModel("a", 0.0, 9)])
    assert m.ranked("debug", "rust", default_order=["a", "b"])[:2] == ["a", "b"]  # the user's order last


def test_refine_and_debug_fall_back_to_the_generate_order():
    m = _matrix()
    m.set("debug", "rust", "*", [RankedModel("e", 0.7, 5)])
    assert m.ranked("refine", "rust", "graph", default_order=["d"]) == ["b", "a", "d"]
    assert m.ranked("debug", "rust", "string", default_order=["d"]) == ["e", "c", "b", "a", "d"]


def test_ranking_is_restricted_to_available_models():
    assert _matrix().ranked("generate", "rust", "string", available={"a", "c"}) == ["c", "a"]


def test_published_ids_come_out_as_the_users_aliases():
    m = RankingMatrix()
    m.set("generate", "rust", "*", [RankedModel("o3", 0.42), RankedModel("gpt-5", 0.41), RankedModel("x", 0.4)])
    ids = {"best": "openai/o3", "second": "gpt-5", "local": "openai/qwen"}
    # The alias order in the config does not matter: the published order does.
    assert m.ranked("generate", "rust", available={"second", "best"}, ids=ids) == ["best", "second"]
    assert m.ranked("generate", "rust", default_order=["local", "second", "best"], available=ids, ids=ids) == [
        "best",
        "second",
        "local",
    ]
    # Two aliases of one model both stay, in the configured order.
    twins = {"a1": "gpt-5", "a2": "openai/gpt-5"}
    assert m.ranked("generate", "rust", default_order=["a2", "a1"], available=twins, ids=twins) == ["a2", "a1"]


def test_cell_provenance_and_source_names_survive_the_round_trip():
    m = _matrix()
    source = CellProvenance(source="AutoCodeBench", table="Table 4", metric="pass@1", date="2025-08", url="u")
    m.set("generate", "java", "*", [RankedModel("o3", 0.53, 188, "o3-high (20250416)")], source)
    m.provenance = Provenance(benchmark="b", notes=("no efficiency figures",), dropped=("x: no litellm id",))
    again = RankingMatrix.from_toml(m.to_toml())
    assert again.cells == m.cells and again.sources == m.sources and again.provenance == m.provenance
    assert again.provenance_of(("generate", "java", "*")) == source
    assert again.provenance_of(("generate", "rust", "*")).source == "b"  # the matrix's, for a profiled cell


def test_a_user_profile_over_the_shipped_one_keeps_each_cells_provenance():
    shipped = RankingMatrix(provenance=Provenance(benchmark="published", notes=("shipped note",)))
    shipped.set("generate", "java", "*", [RankedModel("o3", 0.5)], CellProvenance(source="AutoCodeBench"))
    merged = _matrix().merged_over(shipped)
    assert merged.provenance_of(("generate", "java", "*")).source == "AutoCodeBench"
    assert merged.provenance_of(("generate", "rust", "*")).source == "humanevalpack"
    assert merged.provenance.notes == ("shipped note",)


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
    with pytest.raises(ProfileError, match="shipped profile \\(default, local-smollm2\\)"):
        load_profile("nonesuch")


def test_user_profile_is_laid_over_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PERFORCH_DATA_DIR", str(tmp_path))
    path = save_user_profile("default", _matrix())
    assert path.parent == tmp_path / "profiles"
    loaded = load_profile("default")
    assert loaded.ranked("generate", "rust") == ["b", "a"]
