"""The outcome store: what each model did in each pipeline run, kept in SQLite in the user's data dir.

One row per (run, stage, model that answered): stage, language, category, model, passed, attempts, the
measured speed-up (refine) and tokens, with what the row is evidence of (`signal`) and its `weight`: a run's
tests (weight 1), or the user accepting or rejecting the proposal the model's output made (USER_CHOICE_WEIGHT:
the user may reject a correct edit for reasons of their own, so it counts for less than a test). Models are
stored by litellm id, so renaming an alias keeps what was learned. Nothing leaves the machine: the store is a
local file, and it holds no code, prompt or path. A store written before `signal` and `weight` existed is
migrated when opened (its rows are test outcomes of weight 1).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..run import Attempt, Result
from ..user_data import user_data_dir
from .matrix import canonical_model

STORE_FILE = "outcomes.sqlite3"
TESTED, ACCEPTED, REJECTED = "tests", "accepted", "rejected"  # what a row is evidence of
# An accept or a reject counts as half a test outcome: a strong hint, but the user may turn down a correct edit
# (style, scope, a change of mind) and keep an imperfect one.
USER_CHOICE_WEIGHT = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    stage TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    model TEXT NOT NULL,
    alias TEXT NOT NULL,
    passed INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    speedup REAL,
    tokens INTEGER NOT NULL,
    signal TEXT NOT NULL DEFAULT 'tests',
    weight REAL NOT NULL DEFAULT 1.0,
    cost_usd REAL
)
"""
# Columns added since the first schema, each with the value its old rows get (SQLite's ADD COLUMN).
_ADDED_COLUMNS = {
    "signal": "signal TEXT NOT NULL DEFAULT 'tests'",
    "weight": "weight REAL NOT NULL DEFAULT 1.0",
    "cost_usd": "cost_usd REAL",  # NULL: unpriced (or recorded before costs were)
}


@dataclass(frozen=True)
class ModelOutcome:
    """What one model did in one stage of one run (a row of the store)."""

    stage: str
    language: str
    category: str
    model: str  # litellm id, without litellm's default openai/ prefix
    alias: str  # the name the run used
    passed: bool
    attempts: int
    speedup: float | None  # refine only: the best measured gain of this model's candidates
    tokens: int
    signal: str = TESTED  # TESTED, ACCEPTED or REJECTED
    weight: float = 1.0
    cost_usd: float | None = None  # the model's calls in this stage; None when one was unpriced


@dataclass
class PassCount:
    """How often a model passed out of how many outcomes, each counted at its weight (a user's accept or
    reject at USER_CHOICE_WEIGHT), and how many of them were the user's accepts and rejects."""

    trials: float = 0.0
    passes: float = 0.0
    accepted: int = 0
    rejected: int = 0
    attempts: int = 0  # of the test outcomes: what their calls took
    tokens: int = 0
    priced_attempts: int = 0  # of those attempts, the ones whose cost is known, and that cost
    cost_usd: float = 0.0

    def add(self, other: PassCount) -> None:
        for name in ("trials", "passes", "accepted", "rejected", "attempts", "tokens", "priced_attempts", "cost_usd"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def tokens_per_attempt(self) -> float | None:
        return round(self.tokens / self.attempts, 1) if self.attempts else None

    @property
    def cost_per_attempt(self) -> float | None:
        return round(self.cost_usd / self.priced_attempts, 8) if self.priced_attempts else None

    @classmethod
    def of(cls, outcome: ModelOutcome) -> PassCount:
        priced = outcome.cost_usd is not None
        return cls(
            outcome.weight,
            outcome.weight * outcome.passed,
            int(outcome.signal == ACCEPTED),
            int(outcome.signal == REJECTED),
            outcome.attempts,
            outcome.tokens,
            outcome.attempts if priced else 0,
            outcome.cost_usd or 0.0,
        )


PassCountKey = tuple[str, str, str, str]  # (stage, language, category, model)


def outcomes_of(result: Result, ids: Mapping[str, str]) -> list[ModelOutcome]:
    """The outcomes of one run: one per stage and model that answered at least once.

    A model that never answered (unreachable, no key, rate-limited) says nothing about the code it
    writes, so it is not counted against it."""
    attempts: dict[tuple[str, str], list[Attempt]] = {}
    for attempt in result.trace:
        if attempt.model:
            attempts.setdefault((attempt.stage, attempt.model), []).append(attempt)
    return [
        ModelOutcome(
            stage=stage,
            language=result.language,
            category=result.category,
            model=canonical_model(alias, ids),
            alias=alias,
            passed=_succeeded(stage, alias, tried, result),
            attempts=len({a.attempt for a in tried}),
            speedup=max((a.speedup for a in tried if a.speedup is not None), default=None),
            tokens=sum(a.prompt_tokens + a.completion_tokens for a in tried),
            cost_usd=_cost(tried),
        )
        for (stage, alias), tried in attempts.items()
        if any(a.status == "answered" for a in tried)
    ]


def choices_of(result: Result, ids: Mapping[str, str], accepted: bool) -> list[ModelOutcome]:
    """The user's accept (or reject) of the proposal `result` made, as an outcome for each model whose output
    the proposal kept (result.models: generate or debug, refine), at USER_CHOICE_WEIGHT."""
    return [
        ModelOutcome(
            stage=stage,
            language=result.language,
            category=result.category,
            model=canonical_model(alias, ids),
            alias=alias,
            passed=accepted,
            attempts=0,
            speedup=None,
            tokens=0,
            signal=ACCEPTED if accepted else REJECTED,
            weight=USER_CHOICE_WEIGHT,
        )
        for stage, alias in result.models.items()
        if stage != "categorize"  # the category is not what the user judged
    ]


def _cost(tried: list[Attempt]) -> float | None:
    answered = [a for a in tried if a.status == "answered"]
    return sum(a.cost_usd for a in answered) if all(a.priced for a in answered) else None


def _succeeded(stage: str, alias: str, tried: list[Attempt], result: Result) -> bool:
    if stage == "categorize":
        return result.models.get("categorize") == alias and result.category_from_model
    success = "faster" if stage == "refine" else "passed"
    return any(a.status == success for a in tried)


class OutcomeStore:
    """The SQLite file. Every call opens its own short connection, so any thread may call it, and a
    lock held by another process makes a call fail after `timeout` seconds instead of waiting."""

    def __init__(self, path: Path, timeout: float = 0.5) -> None:
        self.path = path
        self.timeout = timeout

    @classmethod
    def default(cls) -> OutcomeStore:
        return cls(user_data_dir() / STORE_FILE)

    def add(self, outcomes: Iterable[ModelOutcome]) -> None:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        rows = [
            (now, o.stage, o.language, o.category, o.model, o.alias, int(o.passed), o.attempts, o.speedup, o.tokens)
            + (o.signal, o.weight, o.cost_usd)
            for o in outcomes
        ]
        if not rows:
            return
        with self._connection() as db:
            db.executemany(
                "INSERT INTO outcomes (recorded_at, stage, language, category, model, alias, passed, attempts,"
                " speedup, tokens, signal, weight, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.commit()

    def tallies(self) -> dict[PassCountKey, PassCount]:
        if not self.path.exists():
            return {}
        with self._connection() as db:
            found = db.execute(
                "SELECT stage, language, category, model, SUM(weight), SUM(passed * weight),"
                f" SUM(signal = '{ACCEPTED}'), SUM(signal = '{REJECTED}'), SUM(attempts), SUM(tokens),"
                " SUM(CASE WHEN cost_usd IS NULL THEN 0 ELSE attempts END), SUM(COALESCE(cost_usd, 0)) FROM outcomes"
                " GROUP BY stage, language, category, model"
            ).fetchall()
        return {
            (s, lang, c, m): PassCount(float(n), float(p), int(a), int(r), int(t), int(k), int(pa), float(usd))
            for s, lang, c, m, n, p, a, r, t, k, pa, usd in found
        }

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._connection() as db:
            return int(db.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0])

    @contextlib.contextmanager
    def _connection(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=self.timeout)
        try:
            # WAL: readers never block the writer; NORMAL: a commit costs no fsync (a crash may lose
            # the last outcomes, never corrupt the file).
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            _migrate(db)
            yield db
        finally:
            db.close()


def _migrate(db: sqlite3.Connection) -> None:
    """Add the columns a store written by an older PerfOrch lacks; its rows keep their meaning."""
    present = {row[1] for row in db.execute("PRAGMA table_info(outcomes)")}
    for name, definition in _ADDED_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE outcomes ADD COLUMN {definition}")
    db.commit()
