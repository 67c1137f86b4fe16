#pragma once
#include <string>
#include <vector>

namespace textstats {
int count_vowels(const std::string& text);
bool has_duplicates(const std::vector<int>& values);
}  // namespace textstats
