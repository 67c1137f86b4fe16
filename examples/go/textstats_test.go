package textstats

import "testing"

func TestCountVowels(t *testing.T) {
	cases := map[string]int{"Hello World": 3, "": 0, "AEIOU aeiou xyz": 10}
	for text, want := range cases {
		if got := CountVowels(text); got != want {
			t.Errorf("CountVowels(%q) = %d, want %d", text, got, want)
		}
	}
}

func TestHasDuplicates(t *testing.T) {
	if !HasDuplicates([]int{1, 2, 3, 1}) {
		t.Error("[1 2 3 1] has a duplicate")
	}
	distinct := make([]int, 10000)
	for i := range distinct {
		distinct[i] = i
	}
	if HasDuplicates(distinct) || HasDuplicates(nil) {
		t.Error("distinct values reported as duplicates")
	}
}
