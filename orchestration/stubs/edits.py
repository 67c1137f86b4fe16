"""Text edits on a file's bytes that leave everything they do not touch byte for byte as it was."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace bytes [start, end) with `text`, written with "\\n" line breaks.

    `order` ranks edits at the same offset: lower goes first (imports above helpers).
    """

    start: int
    end: int
    text: str
    order: int = 0


def newline_of(src: bytes) -> str:
    """The file's line break: CRLF when most of its lines end so."""
    crlf = src.count(b"\r\n")
    return "\r\n" if crlf and crlf * 2 >= src.count(b"\n") else "\n"


def apply_edits(src: bytes, edits: list[Edit]) -> str:
    """The file with the edits made, the inserted text in the file's own line breaks."""
    newline = newline_of(src)
    pieces: list[bytes] = []
    position = 0
    for edit in sorted(edits, key=lambda edit: (edit.start, edit.order)):
        if edit.start < position:
            raise ValueError(f"overlapping edits at byte {edit.start}")  # a bug in the splicer, not the answer
        pieces.append(src[position : edit.start])
        pieces.append(edit.text.replace("\n", newline).encode("utf-8"))
        position = edit.end
    pieces.append(src[position:])
    return b"".join(pieces).decode("utf-8")
