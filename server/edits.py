"""Edit arithmetic: a proposal as the smallest LSP edit, in the position encoding the client agreed on, and
as the WorkspaceEdit the client can take (versioned and annotated for a preview when it says it can)."""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.lsp.server import LanguageServer

_ANNOTATION = "perforch"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # LSP's line breaks, not str.splitlines' many


def workspace_edit(
    ls: LanguageServer, uri: str, version: int | None, original: str, proposed: str, label: str, *, annotated: bool
) -> types.WorkspaceEdit:
    """`original` -> `proposed` in the document `uri` at `version`; `annotated` asks for a preview."""
    edit = replacement(original, proposed, ls.workspace.position_encoding)
    capabilities = ls.client_capabilities.workspace
    edits = capabilities.workspace_edit if capabilities is not None else None
    if edits is None or not edits.document_changes:
        return types.WorkspaceEdit(changes={uri: [edit]})
    annotations = None
    if annotated and edits.change_annotation_support is not None:
        annotations = {_ANNOTATION: types.ChangeAnnotation(label=label, needs_confirmation=True)}
        edit = types.AnnotatedTextEdit(range=edit.range, new_text=edit.new_text, annotation_id=_ANNOTATION)
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    change = types.TextDocumentEdit(text_document=document, edits=[edit])
    return types.WorkspaceEdit(document_changes=[change], change_annotations=annotations)


def replacement(original: str, proposed: str, encoding: str = "utf-16") -> types.TextEdit:
    """One edit over the lines that differ, so the rest of the file (and the cursor in it) stays put."""
    old, new = _LINE.findall(original), _LINE.findall(proposed)
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    if tail or not old or old[-1].endswith(("\n", "\r")):
        end = types.Position(line=len(old) - tail, character=0)
    else:  # the last line, without a line break, is replaced up to its end
        end = types.Position(line=len(old) - 1, character=_units(old[-1], encoding))
    text = "".join(new[head : len(new) - tail])
    return types.TextEdit(range=types.Range(start=types.Position(line=head, character=0), end=end), new_text=text)


def _units(text: str, encoding: str) -> int:
    """The length of `text` in the position encoding the client and server agreed on."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2
