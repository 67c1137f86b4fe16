"""Merging an answer's imports into a file's import area, never importing the same thing twice.

Two imports are the same when their tokens are (layout does not count). Go and Rust compare finer, because
a repeated import is a compile error there: Go by import spec, Rust by each path a `use` tree brings in.
Go also refuses unused imports, so a Go spec comes along only when the code that lands uses its package
(an answer's `fmt` is often there for its dropped `main`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from .edits import Edit
from .trees import Parsed, leading_start, lone_string, token_key, walk

# Edit order at a shared offset: imports above the helpers inserted at the same place.
IMPORT_ORDER = 0


@dataclass(frozen=True)
class ImportPiece:
    key: str  # what makes two imports the same
    text: str  # the import written on its own (a Go spec, a Rust `use` of one path, a whole statement)
    binds: str = ""  # the name a Go spec makes available; "" when unknown or not needed


def import_edits(file: Parsed, before: int, answer: Parsed, answer_imports: list[Node], used: set[str]) -> list[Edit]:
    """Edits that add the answer's imports the file lacks, in the file's import area above offset `before`.

    `used` holds the identifiers of the answer's code that lands in the file."""
    file_imports = [node for node in file.root.named_children if node.type in file.syntax.imports]
    known = {piece.key for node in file_imports for piece in pieces(file, node)}
    first: list[str] = []
    rest: list[str] = []
    for node in answer_imports:
        found = pieces(answer, node)
        missing = [piece for piece in found if piece.key not in known and (not piece.binds or piece.binds in used)]
        known.update(piece.key for piece in missing)
        if not missing:
            continue
        whole = len(missing) == len(found) and file.syntax.import_style != "go_specs"
        texts = [answer.node_text(node)] if whole else [piece.text for piece in missing]
        (first if node.type in file.syntax.first_imports else rest).extend(texts)
    preceding = [node for node in file_imports if node.end_byte <= before]
    edits = [_top_edit(file, first)] if first else []
    if not rest:
        return edits
    if file.syntax.import_style == "go_specs":
        return [*edits, _go_edit(file, preceding, rest)]
    if preceding:
        at = file.line_end(file.end(preceding[-1]))
        return [*edits, Edit(at, at, "".join("\n" + text for text in rest))]
    return [_top_edit(file, first + rest)]


def pieces(parsed: Parsed, node: Node) -> list[ImportPiece]:
    style = parsed.syntax.import_style
    if style == "go_specs":
        specs = [spec for spec in walk(node) if spec.type == "import_spec"]
        return [ImportPiece(token_key(spec), parsed.node_text(spec), _go_package(parsed, spec)) for spec in specs]
    argument = node.child_by_field_name("argument")
    if style == "rust_paths" and argument is not None:
        visibility = "".join(f"{parsed.node_text(child)} " for child in node.named_children if child != argument)
        return [ImportPiece(path, f"{visibility}use {path};") for path in _use_paths(argument, "")]
    return [ImportPiece(token_key(node), parsed.node_text(node))]


def _go_package(parsed: Parsed, spec: Node) -> str:
    """The name a Go import spec binds: its alias, else the path's last element ("" for `_`, `.` or unclear)."""
    alias = spec.child_by_field_name("name")
    if alias is not None:
        name = parsed.node_text(alias)
        return "" if name in ("_", ".") else name
    path = spec.child_by_field_name("path")
    elements = parsed.node_text(path).strip('"`').split("/") if path is not None else []
    if len(elements) > 1 and re.fullmatch(r"v\d+", elements[-1]):
        elements.pop()  # a major-version suffix: example.com/mod/v2 is package mod
    return elements[-1] if elements and elements[-1].isidentifier() else ""


def _use_paths(tree: Node, prefix: str) -> list[str]:
    """`std::{io, cmp::{max, self}}` -> std::io, std::cmp::max, std::cmp."""
    if tree.type == "scoped_use_list":
        path = tree.child_by_field_name("path")
        inner = _join(prefix, _path_text(path)) if path is not None else prefix
        return _use_paths(tree.child_by_field_name("list"), inner)
    if tree.type == "use_list":
        return [path for child in tree.named_children for path in _use_paths(child, prefix)]
    if tree.type == "self" and prefix:
        return [prefix]
    return [_join(prefix, _path_text(tree))]


def _path_text(node: Node) -> str:
    return "".join(f" {leaf} " if leaf == "as" else leaf for leaf in _leaves(node))


def _leaves(node: Node) -> list[str]:
    return [leaf.text.decode("utf-8", errors="replace") for leaf in walk(node) if leaf.child_count == 0]


def _join(prefix: str, path: str) -> str:
    return f"{prefix}::{path}" if prefix else path


def _go_edit(file: Parsed, preceding: list[Node], specs: list[str]) -> Edit:
    """Go: add the specs to the file's parenthesized import block, or add a block of them."""
    blocks = [list_ for node in preceding for list_ in node.named_children if list_.type == "import_spec_list"]
    if not blocks:
        block = "import (\n" + "".join(f"\t{spec}\n" for spec in specs) + ")"
        if preceding:
            at = file.line_end(file.end(preceding[-1]))
            return Edit(at, at, "\n" + block)
        return _top_edit(file, [block])
    closing = blocks[-1].children[-1]  # the `)`
    existing = [spec for spec in blocks[-1].named_children if spec.type == "import_spec"]
    indent = file.indent_at(existing[0].start_byte) if existing else "\t"
    if file.starts_line(closing.start_byte):
        at = file.line_start(closing.start_byte)
        return Edit(at, at, "".join(f"{indent}{spec}\n" for spec in specs))
    return Edit(closing.start_byte, closing.start_byte, "".join(f"\n{indent}{spec}" for spec in specs) + "\n")


def _top_edit(file: Parsed, statements: list[str]) -> Edit:
    """Imports for a file that has none yet (or that must come first): above the first item after the headers."""
    first = _first_below_headers(file)
    if first is None:
        at = file.line_end(len(file.src))
        return Edit(at, at, "".join("\n" + text for text in statements), IMPORT_ORDER)
    at = file.line_start(leading_start(file, first))
    return Edit(at, at, "".join(text + "\n" for text in statements) + "\n", IMPORT_ORDER)


def _first_below_headers(file: Parsed) -> Node | None:
    """The first item that is not a header: a package clause, inner attributes, a Python module docstring."""
    syntax = file.syntax
    items = [node for node in file.root.named_children if node.type not in syntax.comments | syntax.attributes]
    for n, node in enumerate(items):
        if node.type not in syntax.headers and not (n == 0 and lone_string(node, syntax) is not None):
            return node
    return None
