"""The outcome store: what each model did in each pipeline run, kept in SQLite in the user's data dir.

One row per (run, stage, model that answered): stage, language, category, model, passed, attempts, the
measured speed-up (refine) and tokens. Models are stored by litellm id, so renaming an alias keeps what was
learned. Nothing leaves the machine: the store is a local file, and it holds no code, prompt or path.
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
    tokens INTEGER NOT NULL
)
"""


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


@dataclass
class PassCount:
    """How often a model passed out of how many outcomes."""

    trials: int = 0
    passes: int = 0


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
        )
        for (stage, alias), tried in attempts.items()
        if any(a.status == "answered" for a in tried)
    ]


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
            for o in outcomes
        ]
        if not rows:
            return
        with self._connection() as db:
            db.executemany(
                "INSERT INTO outcomes (recorded_at, stage, language, category, model, alias, passed, attempts,"
                " speedup, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.commit()

    def tallies(self) -> dict[PassCountKey, PassCount]:
        if not self.path.exists():
            return {}
        with self._connection() as db:
            found = db.execute(
                "SELECT stage, language, category, model, COUNT(*), SUM(passed) FROM outcomes"
                " GROUP BY stage, language, category, model"
            ).fetchall()
        return {(s, lang, c, m): PassCount(int(n), int(p)) for s, lang, c, m, n, p in found}

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
            yield db
        finally:
            db.close()
