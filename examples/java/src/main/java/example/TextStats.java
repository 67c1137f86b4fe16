package example;

import java.util.List;

/** Small text and list statistics: the PerfOrch Java example. */
public class TextStats {
    /**
     * Count the vowels (a, e, i, o, u, either case) in text.
     * countVowels("Hello World") == 3
     */
    public static int countVowels(String text) {
        throw new UnsupportedOperationException("TODO");
    }

    /** True if any value occurs more than once. */
    public static boolean hasDuplicates(List<Integer> values) {
        for (int i = 0; i < values.size(); i++) {
            for (int j = 0; j < values.size(); j++) {
                if (i != j && values.get(i).equals(values.get(j))) {
                    return true;
                }
            }
        }
        return false;
    }
}
