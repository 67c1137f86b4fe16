"""The results store of a `perforch profile` or `perforch eval` run: one JSON line per finished unit.

A unit is one benchmark problem; its record (a dict) is all the aggregation needs, so a store can be turned
into a profile or a report again without running anything (`--from-results`). Records are appended and
flushed as each unit finishes, so a killed run loses at most the units in flight, and `--resume` runs only the
rest. Lines:

    {"store": "perforch-results", "version": 1, "kind": "profile", "benchmark": ..., "subject": [...]}
    {"run": "20260130T124501-3f2a1c", "started": ..., "host": ..., "command": ...}    one per run
    {"unit": "Python/3", "run": "20260130T124501-3f2a1c", "finished": ..., "record": {...}}

The first line says what the units are results of (profile: the models; eval: the routing mode), so a resume
with other models is refused instead of mixing results; each unit names the run that produced it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PerfOrchError

FORMAT = "perforch-results"
VERSION = 1


class ResultsError(PerfOrchError):
    """A results store that cannot be read or does not fit the run; the message names the file and the fix."""


@dataclass(frozen=True)
class StoreSubject:
    """What a store's units are results of: resuming is only sound for the same kind, benchmark and subject."""

    kind: str  # "profile" or "eval"
    benchmark: str
    subject: tuple[str, ...]  # profile: the models, in order; eval: the routing mode

    def header(self) -> dict:
        return {
            "store": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "benchmark": self.benchmark,
            "subject": list(self.subject),
        }


@dataclass
class ResultsStore:
    """Finished units by key, in memory and (with a path) on disk; `add` writes each one as it finishes."""

    subject: StoreSubject
    path: Path | None = None
    records: dict[str, dict] = field(default_factory=dict)
    producer: dict[str, str] = field(default_factory=dict)  # unit -> the run that produced it
    runs: list[dict] = field(default_factory=list)
    run_id: str = ""

    @classmethod
    def start(cls, subject: StoreSubject, path: Path | None, resume: bool, command: str = "") -> ResultsStore:
        """A store for a new run: with `resume`, the units already in `path`; otherwise an empty store (an
        earlier store at `path` is kept as `<path>.previous`)."""
        if path is not None and path.exists() and resume:
            store = cls.read(path)
            store._check_fits(subject)
            store._drop_torn_tail()
        else:
            if path is not None and path.exists():
                path.replace(path.with_name(path.name + ".previous"))
            store = cls(subject, path)
            store._append(subject.header())
        store.run_id = f"{dt.datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        run = {"run": store.run_id, "started": _now(), "host": socket.gethostname(), "command": command}
        run["resumed_units"] = len(store.records)
        store.runs.append(run)
        store._append(run)
        return store

    @classmethod
    def read(cls, path: Path) -> ResultsStore:
        """The store at `path` as it is on disk; a torn last line (a run killed while writing) is ignored."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ResultsError(f"{path}: cannot read the results store ({exc.strerror})") from None
        rows = _rows(path, lines)
        header = rows[0] if rows else {}
        if header.get("store") != FORMAT:
            raise ResultsError(f"{path}: not a PerfOrch results store (its first line is no store header)")
        if header.get("version") != VERSION:
            raise ResultsError(f"{path}: results store version {header.get('version')}; this PerfOrch reads {VERSION}")
        subject = StoreSubject(header["kind"], header["benchmark"], tuple(header["subject"]))
        store = cls(subject, path)
        for row in rows[1:]:
            if "unit" in row:
                store.records[row["unit"]] = row["record"]
                store.producer[row["unit"]] = row["run"]
            elif "run" in row:
                store.runs.append(row)
        return store

    def add(self, unit: str, record: dict) -> None:
        self.records[unit] = record
        self.producer[unit] = self.run_id
        self._append({"unit": unit, "run": self.run_id, "finished": _now(), "record": record})

    def provenance_notes(self) -> tuple[str, ...]:
        """Which run produced how many units (a resumed profile is the work of several)."""
        counts = Counter(self.producer.values())
        started = {run["run"]: run for run in self.runs}
        notes = []
        for run_id, n in counts.items():
            run = started.get(run_id, {})
            notes.append(f"results: {n} problems from run {run_id} (host {run.get('host', '?')})")
        return tuple(notes)

    def _check_fits(self, subject: StoreSubject) -> None:
        if subject == self.subject:
            return
        mine = f"{self.subject.kind} of {', '.join(self.subject.subject)} on {self.subject.benchmark}"
        asked = f"{subject.kind} of {', '.join(subject.subject)} on {subject.benchmark}"
        raise ResultsError(
            f"{self.path}: this results store holds a {mine}, not a {asked}; resume with the same settings, "
            "or name another store (--results FILE), or drop --resume to start over"
        )

    def _drop_torn_tail(self) -> None:
        """Cut a half-written last line, so the next record starts on a line of its own."""
        assert self.path is not None
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as file:
                file.truncate(data.rfind(b"\n") + 1)

    def _append(self, row: dict) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(row, separators=(",", ":")) + "\n")
            file.flush()
            os.fsync(file.fileno())  # a unit is minutes of work: worth a sync


def _rows(path: Path, lines: list[str]) -> list[dict]:
    rows = []
    for n, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except ValueError:
            if n == len(lines):
                break  # torn by a kill mid-write: that unit reruns
            raise ResultsError(f"{path}:{n}: not a JSON line; the results store is damaged") from None
    return rows


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
