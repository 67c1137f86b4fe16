"""A run's own types: what it reports while it runs (ProgressEvent), each step it took (Attempt), and what it
ends with (Result). A leaf (it imports only the vocabulary and redaction): everything that reads a run (the
learner, the outcome store, reports, clients) imports these without importing the pipeline that makes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .redaction import excerpt
from .task import ANY_CATEGORY, Timing, Verdict


@dataclass(frozen=True)
class ProgressEvent:
    stage: str
    model: str
    attempt: int
    status: str  # "started", an Outcome value, or a model error kind
    detail: str = ""

    def shown_detail(self, width: int = 100) -> str:
        """The detail as a user sees it: redacted before it is cut to one line (a cut could leave part of a
        secret that no longer matches); none when a step has only started."""
        if not self.detail or self.status == "started":
            return ""
        lines = excerpt(self.detail).splitlines()
        return lines[0][:width] if lines else ""

    def summary(self) -> str:
        """One line for a person, the same in every client: `generate (writer) started`,
        `debug (fixer) test_failed: AssertionError ...`."""
        model = f" ({self.model})" if self.model else ""
        detail = self.shown_detail()
        return f"{self.stage}{model} {self.status}" + (f": {detail}" if detail else "")

    def fields(self) -> dict:
        """The event as data, for clients that show it their own way."""
        return {
            "stage": self.stage,
            "model": self.model,
            "attempt": self.attempt,
            "status": self.status,
            "detail": self.shown_detail(),
        }


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class Attempt:
    stage: str
    model: str
    attempt: int
    status: str
    detail: str
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    speedup: float | None = None  # refine: the measured gain over the version it started from
    priced: bool = True  # False: nothing priced the call, so its cost_usd of 0 is unknown, not free


@dataclass
class Result:
    task_id: str
    language: str
    category: str = ANY_CATEGORY
    category_from_model: bool = False
    passed: bool = False  # on the visible tests
    source: str | None = None  # the best file: passing if any passed
    code: str | None = None
    verdict: Verdict | None = None  # of `source`
    speedup: float | None = None  # first passing version's time / kept version's
    first_passing_source: str | None = None  # the version refinement started from
    timing_before: Timing | None = None  # refine: the first passing version's, as measured
    timing_after: Timing | None = None  # refine: the kept version's (the same when none was kept)
    models: dict[str, str] = field(default_factory=dict)  # stage -> model whose output was kept
    trace: list[Attempt] = field(default_factory=list)
    stopped: str = ""  # why the run stopped early (a token budget or a dollar cap), keeping its best version

    @property
    def tokens(self) -> int:
        return sum(a.prompt_tokens + a.completion_tokens for a in self.trace)

    @property
    def cost_usd(self) -> float:
        """Of the priced calls; `unpriced_calls` says how many more cost an unknown amount."""
        return sum(a.cost_usd for a in self.trace)

    @property
    def unpriced_calls(self) -> int:
        return sum(1 for a in self.trace if a.status == "answered" and not a.priced)

    @property
    def tokens_by_stage(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self.trace:
            counts[a.stage] = counts.get(a.stage, 0) + a.prompt_tokens + a.completion_tokens
        return counts

    @property
    def cost_by_stage(self) -> dict[str, float]:
        """Dollars of the priced calls per stage."""
        dollars: dict[str, float] = {}
        for a in self.trace:
            dollars[a.stage] = dollars.get(a.stage, 0.0) + a.cost_usd
        return dollars


FinishedCallback = Callable[[Result], Awaitable[None]]

VersionCallback = Callable[[Result], None]
"""Gets a better version than any offered before, while the run goes on: the first passing version when
refinement follows, then each faster one refinement keeps. The Result is a snapshot: the run's own goes on
changing."""
