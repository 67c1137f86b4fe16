// Package textstats holds small text and list statistics: the PerfOrch Go example.
package textstats

// CountVowels counts the vowels (a, e, i, o, u, either case) in text.
// CountVowels("Hello World") == 3
func CountVowels(text string) int {
	panic("TODO")
}

// HasDuplicates reports whether any value occurs more than once.
func HasDuplicates(values []int) bool {
	for i := range values {
		for j := range values {
			if i != j && values[i] == values[j] {
				return true
			}
		}
	}
	return false
}
