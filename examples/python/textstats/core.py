"""Small text and list statistics: the PerfOrch Python example."""


def count_vowels(text: str) -> int:
    """Count the vowels (a, e, i, o, u, either case) in text.

    >>> count_vowels("Hello World")
    3
    >>> count_vowels("")
    0
    """
    raise NotImplementedError


def has_duplicates(values: list[int]) -> bool:
    """True if any value occurs more than once."""
    for i in range(len(values)):
        for j in range(len(values)):
            if i != j and values[i] == values[j]:
                return True
    return False
