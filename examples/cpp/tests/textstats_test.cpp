#include <gtest/gtest.h>
#include <numeric>

#include "textstats.h"

TEST(TextStats, CountsVowels) {
    EXPECT_EQ(textstats::count_vowels("Hello World"), 3);
    EXPECT_EQ(textstats::count_vowels(""), 0);
    EXPECT_EQ(textstats::count_vowels("AEIOU aeiou xyz"), 10);
}

TEST(TextStats, FindsDuplicates) {
    EXPECT_TRUE(textstats::has_duplicates({1, 2, 3, 1}));
    EXPECT_FALSE(textstats::has_duplicates({}));
    std::vector<int> distinct(5000);
    std::iota(distinct.begin(), distinct.end(), 0);
    EXPECT_FALSE(textstats::has_duplicates(distinct));
}
