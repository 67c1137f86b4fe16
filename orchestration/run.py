"""A run's own types: what it reports while it runs (ProgressEvent), each step it took (Attempt), and what it
ends with (Result). A leaf (it imports only the vocabulary and redaction): everything that reads a run (the
learner, the outcome store, reports, clients) imports these without importing the pipeline that makes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .redaction import excerpt
from .task import ANY_CATEGORY, Verdict


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
    priced: bool = True  # False: the model has no known price, so cost_usd (0) says nothing


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
    speedup: float | None = None  # first passing version's CPU time / kept version's
    cpu_seconds: tuple[float, float] | None = None  # the tests' median CPU time: (first passing, kept), if timed
    models: dict[str, str] = field(default_factory=dict)  # stage -> model whose output was kept
    trace: list[Attempt] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(a.prompt_tokens + a.completion_tokens for a in self.trace)

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.trace)


FinishedCallback = Callable[[Result], Awaitable[None]]
