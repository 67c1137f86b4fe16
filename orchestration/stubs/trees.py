"""A parsed source text and the questions the splicer asks of its tree, written once for all languages.

Offsets are UTF-8 byte offsets, as tree-sitter reports them; lines are 0-based.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node, Parser, Tree

from .syntax import Syntax

# Leaf node types that name something (identifier, type_identifier, field_identifier, ...) end like this.
_NAME_LEAF_SUFFIX = "identifier"
_NAME_LEAVES = frozenset({"operator_name", "destructor_name"})
# Fields that lead from an item towards the name it defines, tried in this order.
_NAME_FIELDS = ("name", "declarator", "definition", "left")


@dataclass(frozen=True)
class Parsed:
    """Source bytes with their tree."""

    syntax: Syntax
    src: bytes
    tree: Tree

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def text(self, start: int, end: int) -> str:
        return self.src[start:end].decode("utf-8", errors="replace")

    def node_text(self, node: Node) -> str:
        return self.text(node.start_byte, self.end(node))

    def end(self, node: Node) -> int:
        """The node's end without the line break some grammars (C preprocessor, Rust ///) count in it."""
        end = node.end_byte
        while end > node.start_byte and self.src[end - 1] in b"\r\n":
            end -= 1
        return end

    def line_start(self, offset: int) -> int:
        return self.src.rfind(b"\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """The offset of the line break (before any \\r) ending the line that holds `offset`."""
        end = self.src.find(b"\n", offset)
        end = len(self.src) if end < 0 else end
        return end - 1 if end > 0 and self.src[end - 1 : end] == b"\r" else end

    def starts_line(self, offset: int) -> bool:
        return not self.src[self.line_start(offset) : offset].strip()

    def indent_at(self, offset: int) -> str:
        """The whitespace that opens the line holding `offset`."""
        line = self.src[self.line_start(offset) : offset].decode("utf-8", errors="replace")
        return line[: len(line) - len(line.lstrip(" \t"))]

    def line_text(self, offset: int) -> str:
        """The line holding `offset`, stripped and shortened: what to quote to a model."""
        line = self.text(self.line_start(offset), self.line_end(offset)).strip()
        return line if len(line) <= 80 else line[:77] + "..."

    def blank_line_between(self, first_end: int, second_start: int) -> bool:
        return self.src[first_end:second_start].count(b"\n") >= 2


def parse(syntax: Syntax, text: str | bytes) -> Parsed:
    src = text.encode("utf-8") if isinstance(text, str) else text
    # A parser per call: they are cheap and not safe to share between threads.
    return Parsed(syntax, src, Parser(syntax.grammar).parse(src))


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node` (itself included), in document order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def syntax_errors(node: Node) -> list[Node]:
    """ERROR and MISSING nodes, outermost first, looking only where tree-sitter flagged a problem."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            found.append(current)
        elif current.has_error:
            stack.extend(reversed(current.children))
    return found


def leaf_texts(node: Node) -> list[str]:
    """The node's tokens; line breaks that some grammars keep as tokens (C preprocessor) are left out."""
    texts = (leaf.text.decode("utf-8", errors="replace").strip() for leaf in walk(node) if leaf.child_count == 0)
    return [text for text in texts if text]


def is_grammar_gap(error: Node, syntax: Syntax) -> bool:
    """An ERROR on one line inside a function: most likely valid code the grammar does not cover (C++
    `typeid(int)`), better judged by the compiler. Missing tokens and multi-line damage are never gaps."""
    if error.is_missing or error.start_point.row != error.end_point.row:
        return False
    parent = error.parent
    while parent is not None and parent.type not in syntax.functions:
        parent = parent.parent
    return parent is not None


def error_signature(parsed: Parsed, error: Node) -> tuple[bool, str, str]:
    """What tells one syntax error from another across two versions of a text."""
    return error.is_missing, parsed.node_text(error).strip(), parsed.line_text(error.start_byte)


def token_key(node: Node) -> str:
    """The node's tokens joined by single spaces: equal for texts that differ only in layout."""
    return " ".join(leaf_texts(node))


def name_leaves(node: Node) -> set[str]:
    """Every identifier the node's text mentions: what it may use from elsewhere."""
    return {
        leaf.text.decode("utf-8", errors="replace")
        for leaf in walk(node)
        if leaf.child_count == 0 and leaf.type.endswith(_NAME_LEAF_SUFFIX)
    }


def names_of(node: Node, syntax: Syntax) -> list[str]:
    """The names an item defines: `foo` for a function, `X, Y` for `int X, Y;`; [] for anonymous items."""
    if (node.child_count == 0 and node.type.endswith(_NAME_LEAF_SUFFIX)) or node.type in _NAME_LEAVES:
        return [node.text.decode("utf-8", errors="replace")]
    if node.type in syntax.named_by_fields:
        parts = [child for field in syntax.named_by_fields[node.type] if (child := node.child_by_field_name(field))]
        return [f"{node.type} " + " for ".join(token_key(part) for part in parts)]
    for field in _NAME_FIELDS:
        children = node.children_by_field_name(field)
        if children:
            return [name for child in children for name in names_of(child, syntax)]
    return [
        name for child in node.named_children if child.type in syntax.name_carriers for name in names_of(child, syntax)
    ]


def receiver_type(node: Node, syntax: Syntax) -> str | None:
    """The type a Go method is declared on (`Stack` for `func (s *Stack) Push()`)."""
    receiver = node.child_by_field_name(syntax.receiver_field) if syntax.receiver_field else None
    if receiver is None:
        return None
    names = [leaf for leaf in walk(receiver) if leaf.type == "type_identifier"]
    return names[0].text.decode("utf-8", errors="replace") if names else None


def item_key(node: Node, syntax: Syntax) -> list[str]:
    """What identifies an item among its neighbours: its names, Go methods qualified by their type."""
    owner = receiver_type(node, syntax)
    return [f"{owner}.{name}" if owner else name for name in names_of(node, syntax)]


def container_name(node: Node, syntax: Syntax) -> str:
    field = syntax.containers.get(node.type)
    named = node.child_by_field_name(field) if field else None
    return token_key(named) if named is not None else ""


def enclosing_containers(node: Node, syntax: Syntax) -> list[Node]:
    """Classes, impls and namespaces around the node, innermost first."""
    found = []
    parent = node.parent
    while parent is not None:
        if parent.type in syntax.containers:
            found.append(parent)
        parent = parent.parent
    return found


def members_parent(container: Node) -> Node:
    """The node whose children are a container's members (its body, or itself when it has none)."""
    return container.child_by_field_name("body") or container


def decorated(node: Node, syntax: Syntax) -> Node:
    """The definition with its decorators or template header, when it has them."""
    while node.parent is not None and node.parent.type in syntax.decorations:
        node = node.parent
    return node


def scope_child(node: Node, scope: Node) -> Node:
    """The ancestor of `node` (or itself) that is a direct child of `scope`."""
    while node.parent is not None and node.parent != scope:
        node = node.parent
    return node


def leading_items(parsed: Parsed, item: Node) -> list[Node]:
    """Comments and attributes right above an item (no blank line between): they belong to it."""
    syntax = parsed.syntax
    found: list[Node] = []
    current = item
    while True:
        previous = current.prev_named_sibling
        if previous is None or previous.type not in syntax.comments | syntax.attributes:
            break
        if parsed.blank_line_between(parsed.end(previous), current.start_byte):
            break
        if previous.type in syntax.comments and _is_header_comment(parsed, previous):
            break
        if not parsed.starts_line(previous.start_byte):
            break  # a trailing comment of the line above, not a heading of this item
        found.insert(0, previous)
        current = previous
    return found


def leading_start(parsed: Parsed, item: Node) -> int:
    """Where an item starts together with the comments and attributes that belong to it."""
    heading = leading_items(parsed, item)
    return heading[0].start_byte if heading else item.start_byte


def definition_start(parsed: Parsed, function: Node) -> int:
    """Where a function starts with its decorators, template header or attributes (not its comments)."""
    node = decorated(function, parsed.syntax)
    start = node.start_byte
    for item in reversed(leading_items(parsed, node)):
        if item.type not in parsed.syntax.attributes:
            break
        start = item.start_byte
    return start


def _is_header_comment(parsed: Parsed, node: Node) -> bool:
    pattern = parsed.syntax.header_comment
    return pattern is not None and pattern.match(parsed.node_text(node)) is not None


def function_nodes(node: Node, syntax: Syntax) -> Iterator[tuple[int, Node]]:
    """Every function definition under `node` with how many functions enclose it, in document order."""
    # A tree cursor, not node.named_children: no Node objects for the thousands of nodes that are not
    # functions, which makes a 5,000-line file's walk about three times faster (an editor asks often).
    cursor = node.walk()
    depth = 0
    enclosing: list[int] = []  # the depths of the functions around the cursor
    while True:
        current = cursor.node
        if current.is_named and current.type in syntax.functions:
            yield len(enclosing), current
            enclosing.append(depth)
        if cursor.goto_first_child():
            depth += 1
            continue
        while depth > 0 and not cursor.goto_next_sibling():
            cursor.goto_parent()
            depth -= 1
        if depth == 0:
            return
        while enclosing and enclosing[-1] >= depth:  # a sibling: the functions at its depth or deeper are left
            enclosing.pop()


def functions_named(node: Node, syntax: Syntax, name: str) -> list[Node]:
    """Functions called `name`, outermost first, then in document order (methods and nested ones too)."""
    found = [pair for pair in function_nodes(node, syntax) if function_name(pair[1], syntax) == name]
    return [function for _, function in sorted(found, key=lambda pair: (pair[0], pair[1].start_byte))]


def own_function(item: Node, syntax: Syntax) -> Node | None:
    """The function an item defines: itself, or the one under its decorators or template header."""
    if item.type in syntax.functions:
        return item
    return next((child for child in item.named_children if child.type in syntax.functions), None)


def function_name(function: Node, syntax: Syntax) -> str:
    names = names_of(function, syntax)
    return names[0] if names else ""


def parameters_of(function: Node) -> Node | None:
    """The function's parameter list."""
    parameters = function.child_by_field_name("parameters")
    if parameters is None:  # C++ keeps them on the function declarator
        declarator = function.child_by_field_name("declarator")
        while declarator is not None and parameters is None:
            parameters = declarator.child_by_field_name("parameters")
            declarator = declarator.child_by_field_name("declarator") or next(iter(declarator.named_children), None)
    return parameters


def parameters_key(function: Node) -> str:
    """The parameter list's tokens: tells overloads apart."""
    parameters = parameters_of(function)
    return token_key(parameters) if parameters is not None else ""


def parameter_count(function: Node, syntax: Syntax) -> int:
    """How many parameters a caller passes: Go's `a, b int` is two."""
    parameters = parameters_of(function)
    if parameters is None:
        return 0
    declared = [child for child in parameters.named_children if child.type not in syntax.comments]
    return sum(max(1, len(child.children_by_field_name("name"))) for child in declared)


def lone_string(node: Node, syntax: Syntax) -> Node | None:
    """The string of a statement that is nothing but a string (a Python docstring), else None."""
    if syntax.docstring is None or node.type != syntax.docstring[0] or node.named_child_count != 1:
        return None
    string = node.named_children[0]
    return string if string.type == syntax.docstring[1] else None


def docstring_of(function: Node, syntax: Syntax) -> Node | None:
    """The docstring statement opening a function's body, if the language documents that way."""
    body = function.child_by_field_name("body")
    if body is None or syntax.docstring is None:
        return None
    statements = [child for child in body.named_children if child.type not in syntax.comments]
    return statements[0] if statements and lone_string(statements[0], syntax) is not None else None
