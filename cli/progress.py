"""Progress of a profile or eval run: problems done of all, rate, ETA, tokens and cost so far.

A tqdm bar when stderr is a terminal (and no --json was asked for), one plain line per finished problem
otherwise, so a log or a CI transcript reads top to bottom. Problems an earlier run finished (--resume) count
as done but not towards the rate: the ETA is what this run will take.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from tqdm import tqdm

BAR_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} problems [{elapsed}, ETA {remaining}, {rate_fmt}{postfix}]"
)


class UnitProgress:
    """Call it with each finished problem's record (it reads `tokens` and `cost_usd`); `close` at the end."""

    def __init__(self, label: str, total: int, done: list[dict], bar: bool, stream: TextIO | None = None) -> None:
        self.label, self.total, self.stream = label, total, stream or sys.stderr
        self.initial = self.done = len(done)
        self.tokens = sum(r.get("tokens", 0) for r in done)
        self.cost = sum(r.get("cost_usd", 0.0) for r in done)
        self.started = time.monotonic()
        self.bar = None
        if bar:
            self.bar = tqdm(
                total=total,
                initial=self.done,
                desc=label,
                unit="problem",
                file=self.stream,
                bar_format=BAR_FORMAT,
                **_width(self.stream),
                smoothing=0.1,
            )
            self.bar.set_postfix_str(self._usage(), refresh=True)
        elif self.done:
            print(f"{label}: {self.done}/{total} problems already in the results store", file=self.stream, flush=True)

    def __call__(self, record: dict) -> None:
        self.done += 1
        self.tokens += record.get("tokens", 0)
        self.cost += record.get("cost_usd", 0.0)
        if self.bar is not None:
            self.bar.set_postfix_str(self._usage(), refresh=False)
            self.bar.update(1)
        else:
            print(f"{self.label}: {self.line()}", file=self.stream, flush=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        ran = self.done - self.initial
        per_minute = ran / elapsed * 60 if elapsed > 0 else 0.0
        remaining = self.total - self.done
        eta = _duration(remaining / per_minute * 60) if per_minute > 0 else "?"
        return f"{self.done}/{self.total} problems, {per_minute:.1f}/min, ETA {eta}, {self._usage()}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def _usage(self) -> str:
        return f"{self.tokens} tokens, ${self.cost:.4f}"


def _width(stream: TextIO) -> dict:
    """Follow the terminal's size; one that reports none (a bare pty) gets 100 x 24, or tqdm draws nothing."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        columns = 0
    return {"dynamic_ncols": True} if columns else {"ncols": 100, "nrows": 24}


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
