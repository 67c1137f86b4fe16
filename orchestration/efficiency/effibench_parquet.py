"""The hub's EffiBench-X parquet, unpacked into one `{source}_{id}_{title_slug}.json` per problem, as upstream's
hf_dataset.py `download` does (rows without a source, id or title slug are skipped, as there), so that
effibench.load_effibench reads it. pyarrow is an optional extra: `pip install 'perforch[parquet]'`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .effibench import EffiBenchError


@dataclass(frozen=True)
class Unpacked:
    written: tuple[Path, ...]
    skipped: int  # rows without a source, id or title slug


def parquet_files(paths: Sequence[Path]) -> list[Path]:
    """The parquet files named, and those under the directories named (the hub's `default/test/*.parquet`)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.parquet")))
        elif path.is_file():
            found.append(path)
        else:
            raise EffiBenchError(f"{path}: no such file or directory")
    if not found:
        raise EffiBenchError(f"no .parquet file in {', '.join(map(str, paths))}")
    return found


def unpack_parquet(paths: Sequence[Path], out: Path) -> Unpacked:
    """Every row of the parquet files as a problem file in `out` (created if need be)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise EffiBenchError(
            "reading the hub's parquet needs pyarrow: pip install 'perforch[parquet]' (or pip install pyarrow)"
        ) from None
    out.mkdir(parents=True, exist_ok=True)
    written, skipped = [], 0
    for path in parquet_files(paths):
        try:
            rows = pq.read_table(path).to_pylist()
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise EffiBenchError(f"{path}: not a readable parquet file: {exc}") from exc
        for row in rows:
            source, problem_id, slug = row.get("source"), row.get("id"), row.get("title_slug")
            if not (source and problem_id and slug):
                skipped += 1
                continue
            target = out / f"{source}_{problem_id}_{slug}.json"
            target.write_text(json.dumps(row, indent=4, default=str), encoding="utf-8")
            written.append(target)
    return Unpacked(tuple(written), skipped)
