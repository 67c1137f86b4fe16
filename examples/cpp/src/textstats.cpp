#include "textstats.h"

namespace textstats {

/// Count the vowels (a, e, i, o, u, either case) in text.
/// count_vowels("Hello World") == 3
int count_vowels(const std::string& text) {
    // TODO
    return 0;
}

/// True if any value occurs more than once.
bool has_duplicates(const std::vector<int>& values) {
    for (size_t i = 0; i < values.size(); i++) {
        for (size_t j = 0; j < values.size(); j++) {
            if (i != j && values[i] == values[j]) return true;
        }
    }
    return false;
}

}  // namespace textstats
