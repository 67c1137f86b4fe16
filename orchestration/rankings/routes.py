"""Routing policies ([pipeline] route): the order in which a stage tries the user's models, from the ranking's
quality order and each model's figures in the cell (chance to pass an attempt, dollars per attempt).

- quality: the ranking's order (scores best first).
- cost: by expected dollars to a passing result, cost per attempt / chance to pass. Trying models one after
  another until one passes, this order has the least expected cost when attempts succeed independently (each
  swap of neighbours out of it costs more). Models whose cost is not known (unpriced, never profiled) follow,
  in quality order; a model with no chance goes last among the priced.
- balanced: the models whose chance to pass is at least BALANCED_SHARE of the best chance in the cell are tried
  as `cost` orders them; the others follow in quality order. So a cheap model goes first only when it is
  nearly as likely to pass as the strongest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

BALANCED_SHARE = 0.9

WHY = {
    "quality": "by score, best first (route = quality)",
    "cost": "by expected dollars to a passing result: dollars per attempt / chance to pass (route = cost); "
    "models of unknown cost follow by score",
    "balanced": f"models within {BALANCED_SHARE:.0%} of the best chance to pass, by expected dollars to a pass; "
    "then the rest by score (route = balanced)",
}


@dataclass(frozen=True)
class Figures:
    """A model's figures in a cell: what the ranking knows of its attempts."""

    chance: float | None = None  # that an attempt passes (the observed rate, else the score)
    cost_usd: float | None = None  # mean dollars per attempt (None: unpriced or not measured)
    tokens: float | None = None  # mean tokens per attempt

    @property
    def cost_to_pass(self) -> float | None:
        """Expected dollars until an attempt passes (cost / chance), inf with no chance, None when unknown."""
        if self.cost_usd is None or self.chance is None:
            return None
        return self.cost_usd / self.chance if self.chance > 0 else math.inf


def routed(policy: str, quality: list[str], figures: Mapping[str, Figures]) -> list[str]:
    """`quality` (the ranking's order) reordered by `policy`."""
    if policy == "cost":
        return _cheapest_to_pass(quality, figures)
    if policy == "balanced":
        chances = [f.chance for f in (figures.get(m, Figures()) for m in quality) if f.chance is not None]
        best = max(chances, default=0.0)
        close = [m for m in quality if (figures.get(m, Figures()).chance or 0.0) >= BALANCED_SHARE * best > 0]
        return _cheapest_to_pass(close, figures) + [m for m in quality if m not in close]
    return list(quality)


def _cheapest_to_pass(order: list[str], figures: Mapping[str, Figures]) -> list[str]:
    known = [m for m in order if figures.get(m, Figures()).cost_to_pass is not None]
    known.sort(key=lambda m: (figures[m].cost_to_pass, order.index(m)))  # a tie keeps the quality order
    return known + [m for m in order if m not in known]
