"""A model's answer: the code in its markdown, and the ways an answer can be unusable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .syntax import Syntax, all_syntaxes, syntax_for
from .trees import function_nodes, parse, syntax_errors


class AnswerError(ValueError):
    """The answer holds no usable code; the message says why, in words a model can act on."""


class SpliceError(ValueError):
    """The answer's code cannot go into the file; the message says why, in words a model can act on."""


# A fence line: ``` or ~~~ (three or more), optionally indented (answers nest code in lists), then the info string.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
# Reasoning models may think aloud, drafts included, before the answer proper.
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class _Block:
    tag: str
    code: str


def extract_code_block(answer: str, language: str) -> str:
    """The code of the answer's fenced block tagged with `language` (the largest one if several).

    Without such a tag, the largest untagged block, then the largest of any tag. Without fences, the answer
    itself when it parses as `language` code that defines something.
    """
    syntax = syntax_for(language)
    text = _THINKING.sub("", answer.replace("\r\n", "\n"))
    if not text.strip():
        raise AnswerError("the answer is empty")
    blocks = _blocks(text)
    if not blocks:
        return _bare_code(text, syntax)
    filled = [block for block in blocks if block.code.strip()]
    if not filled:
        raise AnswerError("the answer's code block is empty")
    tagged = [block for block in filled if block.tag in syntax.fence_tags]
    untagged = [block for block in filled if block.tag not in _known_tags()]
    best = max(tagged or untagged or filled, key=lambda block: len(block.code.strip()))
    return best.code


@cache
def _known_tags() -> frozenset[str]:
    return frozenset(tag for syntax in all_syntaxes() for tag in syntax.fence_tags)


def _blocks(text: str) -> list[_Block]:
    blocks = []
    lines = text.split("\n")
    n = 0
    while n < len(lines):
        opening = _FENCE.match(lines[n])
        n += 1
        if opening is None:
            continue
        fence, indent = opening["fence"], opening["indent"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body = []
        while n < len(lines) and not closing.match(lines[n]):
            body.append(_dedent(lines[n], indent))
            n += 1
        n += 1  # the closing fence; a truncated answer simply ends
        tag = opening["info"].strip("{}. ").split(" ")[0].lower()
        blocks.append(_Block(tag, "\n".join(body).strip("\n") + "\n"))
    return blocks


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t")


def _bare_code(text: str, syntax: Syntax) -> str:
    parsed = parse(syntax, text)
    if syntax_errors(parsed.root) or next(function_nodes(parsed.root, syntax), None) is None:
        raise AnswerError(
            f"the answer contains no code: expected the complete function in a ```{syntax.language} fenced block"
        )
    return text.strip("\n") + "\n"
