"""Cost in the ranking: entries carry tokens and dollars per attempt (TOML and profiling), and [pipeline] route
orders a stage's models by quality, by expected dollars to a passing result, or by the balanced rule."""

from __future__ import annotations

import math

import pytest
from perforch.orchestration.config import ConfigError, load_config
from perforch.orchestration.models import Usage
from perforch.orchestration.profiling import SuccessCounts
from perforch.orchestration.rankings.learning import Learner
from perforch.orchestration.rankings.matrix import Provenance, RankedModel, RankingMatrix
from perforch.orchestration.rankings.outcomes import OutcomeStore, outcomes_of
from perforch.orchestration.rankings.router import Router
from perforch.orchestration.rankings.routes import Figures, routed
from perforch.orchestration.rankings.view import RankingsView
from perforch.orchestration.run import Attempt, Result
from perforch.orchestration.task import ANY_CATEGORY

ROW = ("generate", "python", ANY_CATEGORY)


def _prior() -> RankingMatrix:
    prior = RankingMatrix()
    prior.set(
        *ROW,
        [
            RankedModel("strong", 0.85, 100, rate=0.9, tokens=900, cost_usd=0.01),  # $0.0111 to a pass
            RankedModel("cheap", 0.8, 100, rate=0.85, tokens=800, cost_usd=0.001),  # $0.00118
            RankedModel("weak", 0.15, 100, rate=0.2, tokens=700, cost_usd=0.0001),  # $0.0005
            RankedModel("custom", 0.1, 100, rate=0.15, tokens=600),  # unpriced
        ],
    )
    return prior


def _router(route: str) -> Router:
    return Router(_prior(), available=("strong", "cheap", "weak", "custom"), route=route)


@pytest.mark.parametrize(
    ("route", "order"),
    [
        ("quality", ["strong", "cheap", "weak", "custom"]),
        ("cost", ["weak", "cheap", "strong", "custom"]),  # by cost / chance; the unpriced one last
        ("balanced", ["cheap", "strong", "weak", "custom"]),  # within 90% of the best chance (0.9): cheap, strong
    ],
)
def test_each_route_orders_the_cell_as_stated(route, order):
    assert _router(route).order(*ROW) == order


def test_the_cost_order_has_the_least_expected_cost_to_a_pass():
    figures = _router("cost").figures(*ROW, ["strong", "cheap", "weak"])

    def expected(order: list[str]) -> float:  # walking the chain until an attempt passes
        cost, reach = 0.0, 1.0
        for model in order:
            cost += reach * figures[model].cost_usd
            reach *= 1 - figures[model].chance
        return cost

    orders = [["strong", "cheap", "weak"], ["cheap", "strong", "weak"], ["weak", "cheap", "strong"]]
    assert min(orders, key=expected) == routed("cost", ["strong", "cheap", "weak"], figures)
    assert figures["weak"].cost_to_pass == pytest.approx(0.0005)
    assert Figures(0.0, 0.01).cost_to_pass == math.inf and Figures(0.5, None).cost_to_pass is None


def test_costs_survive_the_toml_and_profiling_measures_them():
    again = RankingMatrix.from_toml(_prior().to_toml())
    assert again.cell(*ROW) == _prior().cell(*ROW)

    counts = SuccessCounts()
    counts.add("generate", "python", "math", "a", True)
    counts.add("generate", "python", "math", "b", False)
    usage = [Usage("a", "generate", 100, 50, 0.002), Usage("a", "generate", 300, 50, 0.004)]
    usage.append(Usage("b", "generate", 100, 20, 0.0, priced=False))
    (a,) = [r for r in counts.matrix(Provenance(), usage).cell(*ROW) if r.model == "a"]
    (b,) = [r for r in counts.matrix(Provenance(), usage).cell(*ROW) if r.model == "b"]
    assert (a.tokens, a.cost_usd) == (250.0, pytest.approx(0.003))
    assert (b.tokens, b.cost_usd) == (120.0, None)  # unpriced: unknown, never $0


def test_explain_shows_both_figures_and_why(tmp_path):
    view = RankingsView(_router("cost"))
    text = view.text(["python"], explain=True)
    assert "$/attempt" in text and "$/pass" in text
    assert "route: by expected dollars to a passing result" in text
    assert "your models, in this order: weak, cheap, strong, custom" in text
    assert "unpriced" in text
    route = next(c for c in view.as_json(["python"], explain=True)["cells"] if c["category"] == ANY_CATEGORY)
    assert route["route"]["policy"] == "cost" and route["route"]["figures"]["custom"]["cost_usd"] is None


def test_the_route_setting_is_checked(tmp_path):
    (tmp_path / "perforch.toml").write_text('[pipeline]\nroute = "cheapest"\n')
    with pytest.raises(ConfigError, match='pipeline.route: expected "quality" or "cost" or "balanced"'):
        load_config(tmp_path)
    (tmp_path / "perforch.toml").write_text('[pipeline]\nroute = "cost"\nmax_cost_usd = 0.5\n')
    config = load_config(tmp_path)
    assert config.pipeline.route == "cost" and config.pipeline.max_cost_usd == 0.5
    assert Router.configured(config, learn=False).route == "cost"


def test_the_users_own_runs_give_tokens_and_dollars_per_attempt(tmp_path):
    result = Result("t", "python", category="math", passed=True)
    result.trace = [
        Attempt("generate", "cheap", 1, "answered", "", 1.0, 300, 100, 0.001),
        Attempt("generate", "cheap", 1, "test_failed", "", 1.0),
        Attempt("generate", "cheap", 2, "answered", "", 1.0, 500, 100, 0.003),
        Attempt("generate", "cheap", 2, "passed", "", 1.0),
        Attempt("generate", "custom", 1, "answered", "", 1.0, 300, 100, 0.0, priced=False),
    ]
    cheap, custom = outcomes_of(result, {})
    assert (cheap.attempts, cheap.tokens, cheap.cost_usd) == (2, 1000, pytest.approx(0.004))
    assert custom.cost_usd is None  # unpriced, never $0

    store = OutcomeStore(tmp_path / "outcomes.sqlite3")
    store.add([cheap] * 5)  # enough outcomes to move the cell
    router = Router(_prior(), available=("strong", "cheap"), learner=Learner(store), route="cost")
    learned = next(r for r in router.matrix.cell(*ROW) if r.model == "cheap")
    assert (learned.tokens, learned.cost_usd) == (500.0, pytest.approx(0.002))  # per attempt, from the store
    strong = next(r for r in router.matrix.cell(*ROW) if r.model == "strong")
    assert (strong.tokens, strong.cost_usd) == (900, 0.01)  # the profile's, where the user has no runs
