"""Visible tests for problems that have none: HumanEvalPack's Python `example_test` asserts read as
(arguments, expected result) pairs, then rendered in the problem's language by its `values` module.

Only the plain forms carry over: `assert f(args) == expected`, `assert f(args)`, `assert not f(args)`,
and `assert abs(f(args) - expected) < tol`; any other assert is left out (it is an example, not the test).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Mapping

from .efficiency.values import Bool, Unrenderable
from .languages import language_spec

log = logging.getLogger(__name__)

Example = tuple[tuple[object, ...], object]


def python_examples(example_test: str) -> list[Example]:
    """The (arguments, expected) pairs of the asserts in a Python `check(candidate)` example test."""
    try:
        tree = ast.parse(example_test)
    except SyntaxError:  # a few carry a stray copy of the solution before `def check`
        start = example_test.rfind("\ndef check(")
        try:
            tree = ast.parse(example_test[start + 1 :]) if start >= 0 else ast.Module(body=[], type_ignores=[])
        except SyntaxError:
            return []
    checks = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    names = {arg.arg for check in checks for arg in check.args.args}
    examples = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            example = _example(node.test, names)
            if example is not None:
                examples.append(example)
    return examples


def _example(test: ast.expr, names: set[str]) -> Example | None:
    try:
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq | ast.Is):
            call, expected = _call_and_value(test.left, test.comparators[0], names)
            return (call, expected) if call is not None else None
        if isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Lt) and _is_abs_difference(test.left):
            difference = test.left.args[0]  # type: ignore[attr-defined]
            call, expected = _call_and_value(difference.left, difference.right, names)
            return (call, float(expected)) if call is not None else None  # type: ignore[arg-type]
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            args = _call_args(test.operand, names)
            return (args, False) if args is not None else None
        args = _call_args(test, names)
        return (args, True) if args is not None else None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _call_and_value(left: ast.expr, right: ast.expr, names: set[str]) -> tuple[tuple[object, ...] | None, object]:
    args = _call_args(left, names)
    if args is None:
        args, right = _call_args(right, names), left
    return args, ast.literal_eval(_unwrapped(right)) if args is not None else None


def _unwrapped(node: ast.expr) -> ast.expr:
    """`tuple(x)` and `list(x)` around a call or a value only change its Python container type."""
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("tuple", "list")
        and len(node.args) == 1
    ):
        node = node.args[0]
    return node


def _call_args(node: ast.expr, names: set[str]) -> tuple[object, ...] | None:
    node = _unwrapped(node)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names and not node.keywords:
        return tuple(ast.literal_eval(arg) for arg in node.args)
    return None


def _is_abs_difference(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Sub)
    )


def visible_test(language: str, row: Mapping[str, str], python_example_test: str) -> str:
    """The problem's visible test in its language, made from the Python examples; Unrenderable with the
    reason when its types or every example fail to render."""
    values = language_spec(language).values()
    signature = values.parse_signature(row["signature"])
    examples = python_examples(python_example_test)
    if not isinstance(signature.returns, Bool):
        examples = [(args, expected) for args, expected in examples if not isinstance(expected, bool)]
    return values.visible_test(signature, examples)


def generated_visible_test(language: str, row: Mapping[str, str], python_example_test: str) -> tuple[str, str]:
    """(the visible test, "") or ("", the reason none could be made), the reason also logged."""
    if not python_example_test.strip():
        reason = "the Python problem has no example test either"
    else:
        try:
            return visible_test(language, row, python_example_test), ""
        except ModuleNotFoundError:
            reason = f"{language} has no typed values module"
        except Unrenderable as exc:
            reason = str(exc)
    log.info("%s: the build-only substitute stands in for a visible test: %s", row.get("task_id"), reason)
    return "", reason
