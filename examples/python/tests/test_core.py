from textstats.core import count_vowels, has_duplicates


def test_count_vowels():
    assert count_vowels("Hello World") == 3
    assert count_vowels("") == 0
    assert count_vowels("AEIOU aeiou xyz") == 10


def test_has_duplicates():
    assert has_duplicates([1, 2, 3, 1])
    assert not has_duplicates([])
    assert not has_duplicates(list(range(3000)))
