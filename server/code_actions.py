"""The lightbulb (generate on a stub, optimize on a finished function, nothing elsewhere) and a code lens above
each stub. Which function spans a line is parsed once per version of a document, however often the cursor
moves. No model call, no build."""

from __future__ import annotations

from collections import OrderedDict

from lsprotocol import types
from perforch.orchestration.languages import UnsupportedLanguage, language_of_path
from perforch.orchestration.stubs import FunctionIndex, FunctionNotFound, FunctionSpan, is_stub
from pygls.workspace import TextDocument

GENERATE, OPTIMIZE = "perforch.generate", "perforch.optimize"
ACTION_KIND = "refactor.rewrite.perforch"
TITLES = {"generate": "Generate with PerfOrch", "optimize": "Optimize with PerfOrch"}
_COMMANDS = {"generate": GENERATE, "optimize": OPTIMIZE}


class FunctionLookup:
    """Which function spans a line, from a small cache of parsed documents."""

    def __init__(self, documents: int = 8) -> None:
        self._indexes: OrderedDict[str, tuple[int, FunctionIndex]] = OrderedDict()
        self._documents = documents

    def at(self, document: TextDocument, line: int) -> tuple[FunctionSpan, bool] | None:
        """(function, is it a stub) at the 0-based line, or None outside functions and supported languages."""
        try:
            language = language_of_path(document.path)
        except UnsupportedLanguage:
            return None
        try:
            span = self._index(document, language).at(line)
        except FunctionNotFound:
            return None
        return span, is_stub(span, language)

    def stubs(self, document: TextDocument) -> list[FunctionSpan]:
        """The functions of the document still to be written."""
        try:
            language = language_of_path(document.path)
        except UnsupportedLanguage:
            return []
        return [span for span in self._index(document, language).spans() if is_stub(span, language)]

    def _index(self, document: TextDocument, language: str) -> FunctionIndex:
        if document.version is None:  # a file not open in the editor: disk may change under any cache
            return FunctionIndex(document.source, language)
        cached = self._indexes.get(document.uri)
        if cached is None or cached[0] != document.version:
            cached = (document.version, FunctionIndex(document.source, language))
            self._indexes[document.uri] = cached
        self._indexes.move_to_end(document.uri)
        while len(self._indexes) > self._documents:
            self._indexes.popitem(last=False)
        return cached[1]

    def forget(self, uri: str) -> None:
        self._indexes.pop(uri, None)


def code_actions(
    lookup: FunctionLookup, document: TextDocument, position: types.Position, only: list[str] | None
) -> list[types.CodeAction]:
    """The one action for the function at `position`, if any."""
    if only and not any(ACTION_KIND.startswith(kind) for kind in only):
        return []
    found = lookup.at(document, position.line)
    if found is None:
        return []
    _, stub = found
    kind = "generate" if stub else "optimize"
    arguments = [document.uri, {"line": position.line, "character": 0}, document.version]
    command = types.Command(title=TITLES[kind], command=_COMMANDS[kind], arguments=arguments)
    return [types.CodeAction(title=TITLES[kind], kind=ACTION_KIND, command=command)]


def code_lenses(lookup: FunctionLookup, document: TextDocument) -> list[types.CodeLens]:
    """ "Generate with PerfOrch" above each stub: the same command the lightbulb's action runs."""
    lenses = []
    for span in lookup.stubs(document):
        arguments = [document.uri, {"line": span.start_line, "character": 0}, document.version]
        command = types.Command(title=TITLES["generate"], command=GENERATE, arguments=arguments)
        start = types.Position(line=span.start_line, character=0)
        lenses.append(types.CodeLens(range=types.Range(start=start, end=start), command=command))
    return lenses
