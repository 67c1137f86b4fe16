"""A perforch.toml the engine cannot use, as a diagnostic on the file (the editor's Problems list): checked when
the file is opened and saved, positioned on the line the engine names (invalid TOML) or on the key it names."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types
from perforch.orchestration.config import CONFIG_FILE, ConfigError, load_config
from perforch.orchestration.redaction import redact

SOURCE = "PerfOrch"
_LINE = re.compile(r"(\d+): ")
_KEY = re.compile(r"([A-Za-z0-9_\-.\"]+): ")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def is_config(path: str) -> bool:
    return Path(path).name == CONFIG_FILE


def diagnostics(path: Path, text: str) -> list[types.Diagnostic]:
    """The problem the engine finds reading `path` (whose text is `text`), if it is in that file."""
    try:
        load_config(path.parent)
    except ConfigError as exc:
        message = str(exc)
    else:
        return []
    prefix = f"{path}:"
    if not message.startswith(prefix):
        return []  # the user's own config, not this file
    rest = message[len(prefix) :]
    lines = text.splitlines() or [""]
    numbered = _LINE.match(rest)
    if numbered:
        line, problem = int(numbered.group(1)) - 1, rest[numbered.end() :]
    else:
        problem = rest.strip()
        key = _KEY.match(problem)
        line = _line_of(key.group(1), lines) if key else 0
    line = min(max(line, 0), len(lines) - 1)
    start = len(lines[line]) - len(lines[line].lstrip())
    where = types.Range(
        start=types.Position(line=line, character=start), end=types.Position(line=line, character=len(lines[line]))
    )
    fix = "; PerfOrch runs no job in this project until it is fixed and saved"
    severity = types.DiagnosticSeverity.Error
    return [types.Diagnostic(range=where, message=redact(problem) + fix, severity=severity, source=SOURCE)]


def _line_of(dotted: str, lines: list[str]) -> int:
    """The line that sets `dotted` (table.key), else the table's header, else the first line."""
    *table, key = dotted.split(".")
    wanted = ".".join(table)
    current, header = "", None
    for number, line in enumerate(lines):
        found = _HEADER.match(line)
        if found:
            current = found.group(1).replace(" ", "")
            if current == wanted or (not table and current == key):
                header = number if header is None else header
            continue
        if current == wanted and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return number
    return header if header is not None else 0
