"""The README's first run: a stub small enough for the bundled local model (SmolLM2-135M) to fill."""


def is_palindrome(text: str) -> bool:
    """True if text reads the same backwards.

    >>> is_palindrome("level")
    True
    >>> is_palindrome("hello")
    False
    """
    raise NotImplementedError
