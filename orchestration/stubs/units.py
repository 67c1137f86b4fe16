"""The items of a scope (a file, a class body) with the comments and attributes that belong to them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tree_sitter import Node

from .trees import Parsed, item_key, leading_start, members_parent, names_of, own_function


class Kind(Enum):
    IMPORT = "import"
    DEFINITION = "definition"  # functions and types: worth inserting when the file lacks them
    DATA = "data"  # constants, fields, globals: worth inserting only when the kept code uses them
    DROPPED = "dropped"  # packages, mains, test code, stray statements: never lands in the file


@dataclass(frozen=True)
class Unit:
    node: Node  # the item itself, decorators and template headers included
    start: int  # where its leading comments and attributes start
    end: int  # where it ends, with a trailing `;` or same-line comment
    kind: Kind
    keys: tuple[str, ...]  # the names it defines (Go methods as Type.Name)


ENTRY_POINT = "main"  # every language's program entry: test scaffolding in an answer


def units_of(parsed: Parsed, scope: Node, entry_point_kept: bool = False) -> list[Unit]:
    """The items directly in `scope` (a root or a members node), in document order.

    Comments and attributes are not items of their own: they belong to the item right below them, or are
    dropped when nothing follows them closely.
    """
    syntax = parsed.syntax
    found = []
    for node in scope.named_children:
        if node.type in syntax.comments | syntax.attributes:
            continue
        kind = _kind(parsed, node, entry_point_kept)
        end = _end_with_trailer(parsed, node)
        found.append(Unit(node, leading_start(parsed, node), end, kind, tuple(item_key(node, syntax))))
    return found


def _end_with_trailer(parsed: Parsed, node: Node) -> int:
    """A C++ `struct S {...};` ends after its `;`; a same-line comment stays with the item it annotates."""
    end = parsed.end(node)
    following = node.next_sibling
    if following is not None and not following.is_named and following.type == ";":
        end = following.end_byte
        following = following.next_sibling
    if (
        following is not None
        and following.type in parsed.syntax.comments
        and parsed.line_start(following.start_byte) == parsed.line_start(end)
    ):
        end = parsed.end(following)
    return end


def _kind(parsed: Parsed, node: Node, entry_point_kept: bool) -> Kind:
    syntax = parsed.syntax
    if node.type in syntax.imports:
        return Kind.IMPORT
    if not entry_point_kept and is_entry_point(parsed, node):
        return Kind.DROPPED
    if node.type in syntax.definitions:
        return Kind.DEFINITION
    if node.type in syntax.data and names_of(node, syntax):
        return Kind.DATA
    return Kind.DROPPED


def is_entry_point(parsed: Parsed, node: Node) -> bool:
    """A `main` function, or a class that holds nothing but one (Java's `class Main`)."""
    syntax = parsed.syntax
    if node.type in syntax.containers:
        members = [unit for unit in units_of(parsed, members_parent(node)) if unit.kind is not Kind.DROPPED]
        return not members and any(child.type in syntax.functions for child in members_parent(node).named_children)
    return names_of(node, syntax) == [ENTRY_POINT] and own_function(node, syntax) is not None
