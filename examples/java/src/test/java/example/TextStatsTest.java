package example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextStatsTest {
    @Test
    void countsVowels() {
        assertEquals(3, TextStats.countVowels("Hello World"));
        assertEquals(0, TextStats.countVowels(""));
        assertEquals(10, TextStats.countVowels("AEIOU aeiou xyz"));
    }

    @Test
    void findsDuplicates() {
        assertTrue(TextStats.hasDuplicates(List.of(1, 2, 3, 1)));
        assertFalse(TextStats.hasDuplicates(List.of()));
        List<Integer> distinct = new ArrayList<>();
        for (int i = 0; i < 10000; i++) distinct.add(i);
        assertFalse(TextStats.hasDuplicates(distinct));
    }
}
