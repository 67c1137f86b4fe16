"""Categorize agent: pick one problem category from a fixed vocabulary.

An answer off the vocabulary falls back deterministically: a near spelling, then a keyword vote over the
problem text, so the same problem always lands in the same category.
"""

from __future__ import annotations

import difflib
import re

CATEGORIES: tuple[str, ...] = (
    "string",
    "math",
    "array",
    "sorting_searching",
    "dynamic_programming",
    "graph",
    "greedy",
    "data_structures",
    "simulation",
    "bit_manipulation",
)

_SYNONYMS = {
    "strings": "string",
    "text": "string",
    "mathematics": "math",
    "number_theory": "math",
    "arithmetic": "math",
    "arrays": "array",
    "list": "array",
    "lists": "array",
    "sorting": "sorting_searching",
    "searching": "sorting_searching",
    "binary_search": "sorting_searching",
    "dp": "dynamic_programming",
    "graphs": "graph",
    "trees": "graph",
    "tree": "graph",
    "hash_table": "data_structures",
    "stack": "data_structures",
    "queue": "data_structures",
    "bits": "bit_manipulation",
    "bitwise": "bit_manipulation",
}

_NAMES_LONGEST_FIRST = sorted([*CATEGORIES, *_SYNONYMS], key=len, reverse=True)

# Keyword vote for the fallback; the order of CATEGORIES breaks ties.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "string": ("string", "char", "letter", "word", "vowel", "palindrome", "substring", "text"),
    "math": ("prime", "number", "sum", "product", "digit", "factorial", "divisible", "integer", "fibonacci"),
    "array": ("list", "array", "vector", "element", "slice"),
    "sorting_searching": ("sort", "order", "search", "largest", "smallest", "maximum", "minimum"),
    "dynamic_programming": ("subsequence", "ways", "optimal", "memo", "partition"),
    "graph": ("graph", "path", "node", "edge", "grid", "tree", "neighbor"),
    "greedy": ("greedy", "minimum number", "fewest"),
    "data_structures": ("stack", "queue", "map", "dictionary", "set", "heap", "bracket", "parenthes"),
    "simulation": ("simulate", "step", "turn", "game", "car", "collision"),
    "bit_manipulation": ("binary", "bit", "xor", "bitwise"),
}


def build_messages(language: str, source: str, entry_point: str, statement: str = "") -> list[dict]:
    """`statement`: a problem told in words (Task.statement), classified instead of the file's function."""
    vocabulary = ", ".join(CATEGORIES)
    if statement:
        question = f"Which category fits the problem below, to be solved in {language}, best?\n\n{statement}"
    else:
        question = (
            f"Which category fits the {language} function `{entry_point}` below best?\n\n```{language}\n{source}\n```"
        )
    return [
        {
            "role": "system",
            "content": "You classify programming problems. Answer with exactly one category name and nothing else.",
        },
        {
            "role": "user",
            "content": f"Categories: {vocabulary}\n\n{question}\n\nAnswer with one category name from the list.",
        },
    ]


def parse(answer: str, problem_text: str) -> tuple[str, bool]:
    """The category, and whether the model's answer was on the vocabulary (False: fallback used)."""
    word = _normalise(answer)
    if word in CATEGORIES:
        return word, True
    if word in _SYNONYMS:
        return _SYNONYMS[word], True
    for name in _NAMES_LONGEST_FIRST:  # a category named inside a sentence
        if re.search(rf"(?<![a-z]){name}(?![a-z])", word):
            return _SYNONYMS.get(name, name), True
    close = difflib.get_close_matches(word, CATEGORIES, n=1, cutoff=0.85)
    if close:
        return close[0], True
    return classify_by_keywords(problem_text), False


def classify_by_keywords(problem_text: str) -> str:
    text = problem_text.lower()
    votes = {c: sum(text.count(k) for k in _KEYWORDS[c]) for c in CATEGORIES}
    best = max(CATEGORIES, key=lambda c: (votes[c], -CATEGORIES.index(c)))
    return best if votes[best] else "array"


def _normalise(answer: str) -> str:
    word = answer.strip().strip("`*.\"'").lower()
    return re.sub(r"[\s/-]+", "_", word)
