"""Scripted models with complementary strengths on HumanEvalPack, for profile and eval tests.

- `writer-pg` writes correct code in Python and Go only;
- `writer-jcr` writes correct code in Java, C++ and Rust, except on one problem in ten;
- `fixer` writes wrong code but fixes any code it is shown, except its own (it repeats its own mistake).
Nobody but the fixer can debug: asked to fix code, the writers return it unchanged; nobody refines.

Wrong code refers to an undefined name, so it fails to build (or, in Python, fails when called) and the
visible tests catch it even where they only check that the program builds.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "humanevalpack"
WRITER_PG, WRITER_JCR, FIXER = "writer-pg", "writer-jcr", "fixer"
_STRENGTHS = {WRITER_PG: {"python", "go"}, WRITER_JCR: {"java", "cpp", "rust"}, FIXER: set()}
_FIXER_MARK = "scripted fixer draft"
_BREAK = {
    "python": "    undefined_scripted_name\n",
    "java": "        int scriptedBroken = undefinedScriptedName;\n",
    "cpp": "    int scripted_broken = undefined_scripted_name;\n",
    "go": "    _ = undefinedScriptedName\n",
    "rust": "    let _ = undefined_scripted_name;\n",
}
_COMMENT = {"python": "#"}
_STRENGTHS_LANGS = ("python", "java", "cpp", "go", "rust")


def load_rows(language: str) -> dict[str, list[dict]]:
    """Rows by entry point; a few entry points repeat, so each maps to a list."""
    by_name: dict[str, list[dict]] = {}
    with gzip.open(BENCHMARK / f"{language}.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            by_name.setdefault(row["entry_point"], []).append(row)
    return by_name


class HumanEvalModels:
    """A policy for the scripted server: answers as the three models above would."""

    def __init__(self) -> None:
        self.rows = {language: load_rows(language) for language in _STRENGTHS_LANGS}

    def __call__(self, model: str, messages: list[dict]) -> str:
        system, user = messages[0]["content"], messages[-1]["content"]
        if "classify" in system:
            return "string" if "string" in user.lower() else "math"
        language = next(lang for lang in _STRENGTHS_LANGS if f"expert {lang} " in system or f"in {lang} perf" in system)
        row = self._row(language, re.search(r"`(\w+)`", user).group(1), user)
        if "debugger" in system:
            return self._debug(model, language, row, user)
        if "performance" in system:
            return _fenced(language, _current_implementation(user))
        return _fenced(language, self._write(model, language, row))

    def _row(self, language: str, name: str, user: str) -> dict:
        """The problem whose prompt the message quotes (a few records' entry_point is not the declared name)."""
        rows = self.rows[language]
        candidates = [*rows.get(name, []), *(r for group in rows.values() for r in group)]
        return next(r for r in candidates if r["prompt"].strip() in user)

    def _write(self, model: str, language: str, row: dict) -> str:
        good = language in _STRENGTHS[model] and not (model == WRITER_JCR and _one_in_ten(row["task_id"]))
        if good:
            return row["prompt"] + row["canonical_solution"]
        mark = f"{_COMMENT.get(language, '//')} {_FIXER_MARK}\n" if model == FIXER else ""
        return row["prompt"] + _BREAK[language] + mark + row["canonical_solution"]

    def _debug(self, model: str, language: str, row: dict, user: str) -> str:
        shown = _current_implementation(user)
        if model != FIXER or _FIXER_MARK in shown:
            return _fenced(language, shown)
        return _fenced(language, row["prompt"] + row["canonical_solution"])


def _one_in_ten(task_id: str) -> bool:
    return zlib.crc32(task_id.encode()) % 10 == 0


def _current_implementation(user: str) -> str:
    marker = "implementation:\n```"
    start = user.index("\n", user.index(marker) + len(marker)) + 1
    return user[start : user.index("\n```", start)]


def _fenced(language: str, code: str) -> str:
    return f"Here you go:\n```{language}\n{code}\n```\n"
