//! Small text and list statistics: the PerfOrch Rust example.

/// Count the vowels (a, e, i, o, u, either case) in text.
/// `count_vowels("Hello World") == 3`
pub fn count_vowels(text: &str) -> usize {
    todo!()
}

/// True if any value occurs more than once.
pub fn has_duplicates(values: &[i64]) -> bool {
    for i in 0..values.len() {
        for j in 0..values.len() {
            if i != j && values[i] == values[j] {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_vowels() {
        assert_eq!(count_vowels("Hello World"), 3);
        assert_eq!(count_vowels(""), 0);
        assert_eq!(count_vowels("AEIOU aeiou xyz"), 10);
    }

    #[test]
    fn finds_duplicates() {
        assert!(has_duplicates(&[1, 2, 3, 1]));
        assert!(!has_duplicates(&[]));
        let distinct: Vec<i64> = (0..5000).collect();
        assert!(!has_duplicates(&distinct));
    }
}
