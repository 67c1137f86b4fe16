// PerfOrch's timing harness (EFFICIENCY_PROTOCOL.md): value stream in, timed calls, results out.
// Appended to the candidate's file; perforch_call (generated below) decodes one case and calls the function.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <list>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace perforch {
struct Input {
    std::string data;
    size_t pos = 0;
    std::string token() {
        while (pos < data.size() && isspace((unsigned char)data[pos])) pos++;
        size_t start = pos;
        while (pos < data.size() && !isspace((unsigned char)data[pos]) && data[pos] != ':') pos++;
        if (start == pos) { fprintf(stderr, "perforch harness: the input ends early at byte %zu\n", start); exit(3); }
        return data.substr(start, pos - start);
    }
    std::string text(size_t length) { size_t start = pos + 1; pos = start + length; return data.substr(start, length); }
};

inline void take(Input& in, int& v) { v = (int)std::stoll(in.token()); }
inline void take(Input& in, long& v) { v = std::stol(in.token()); }
inline void take(Input& in, long long& v) { v = std::stoll(in.token()); }
inline void take(Input& in, unsigned& v) { v = (unsigned)std::stoull(in.token()); }
inline void take(Input& in, unsigned long& v) { v = std::stoul(in.token()); }
inline void take(Input& in, unsigned long long& v) { v = std::stoull(in.token()); }
inline void take(Input& in, float& v) { v = strtof(in.token().c_str(), nullptr); }
inline void take(Input& in, double& v) { v = strtod(in.token().c_str(), nullptr); }
inline void take(Input& in, bool& v) { v = in.token() == "1"; }
inline void take(Input& in, std::string& v) { size_t n = std::stoull(in.token()); v = in.text(n); }
inline void take(Input& in, char& v) { std::string s; take(in, s); v = s.empty() ? '\0' : s[0]; }
template <class T> void take(Input& in, std::vector<T>& v);
template <class T> void take(Input& in, std::list<T>& v);
template <class T> void take(Input& in, std::set<T>& v);
template <class K, class V> void take(Input& in, std::map<K, V>& v);
template <class A, class B> void take(Input& in, std::pair<A, B>& v);
PERFORCH_ANY_DECLARATIONS
template <class T> void take(Input& in, std::vector<T>& v) {
    size_t n = std::stoull(in.token()); v.resize(n); for (auto& item : v) take(in, item);
}
template <class T> void take(Input& in, std::list<T>& v) {
    size_t n = std::stoull(in.token()); v.resize(n); for (auto& item : v) take(in, item);
}
template <class T> void take(Input& in, std::set<T>& v) {
    size_t n = std::stoull(in.token()); for (size_t i = 0; i < n; i++) { T item; take(in, item); v.insert(item); }
}
template <class K, class V> void take(Input& in, std::map<K, V>& v) {
    size_t n = std::stoull(in.token());
    for (size_t i = 0; i < n; i++) { K k; take(in, k); take(in, v[k]); }
}
template <class A, class B> void take(Input& in, std::pair<A, B>& v) { take(in, v.first); take(in, v.second); }

inline void token(std::string& out, const std::string& text) { out += text; out += ' '; }
inline void put(std::string& out, long long v) { token(out, std::to_string(v)); }
inline void put(std::string& out, int v) { put(out, (long long)v); }
inline void put(std::string& out, long v) { put(out, (long long)v); }
inline void put(std::string& out, unsigned long long v) { token(out, std::to_string(v)); }
inline void put(std::string& out, unsigned v) { put(out, (unsigned long long)v); }
inline void put(std::string& out, unsigned long v) { put(out, (unsigned long long)v); }
inline void put(std::string& out, double v) { char b[40]; snprintf(b, sizeof b, "%.17g", v); token(out, b); }
inline void put(std::string& out, float v) { char b[40]; snprintf(b, sizeof b, "%.9g", (double)v); token(out, b); }
inline void put(std::string& out, bool v) { token(out, v ? "1" : "0"); }
inline void put(std::string& out, const std::string& v) { out += std::to_string(v.size()) + ":" + v + " "; }
inline void put(std::string& out, char v) { put(out, std::string(1, v)); }
template <class T> void put(std::string& out, const std::vector<T>& v);
template <class T> void put(std::string& out, const std::list<T>& v);
template <class T> void put(std::string& out, const std::set<T>& v);
template <class K, class V> void put(std::string& out, const std::map<K, V>& v);
template <class A, class B> void put(std::string& out, const std::pair<A, B>& v);
template <class T> void put(std::string& out, const std::vector<T>& v) { put(out, (long long)v.size()); for (const auto& i : v) put(out, (T)i); }
template <class T> void put(std::string& out, const std::list<T>& v) { put(out, (long long)v.size()); for (const auto& i : v) put(out, i); }
template <class T> void put(std::string& out, const std::set<T>& v) { put(out, (long long)v.size()); for (const auto& i : v) put(out, i); }
template <class K, class V> void put(std::string& out, const std::map<K, V>& v) {
    put(out, (long long)v.size()); for (const auto& kv : v) { put(out, kv.first); put(out, kv.second); }
}
template <class A, class B> void put(std::string& out, const std::pair<A, B>& v) { put(out, v.first); put(out, v.second); }

template <class T> inline void consume(T& value) { asm volatile("" : : "g"(&value) : "memory"); }

inline long peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) if (line.rfind("VmHWM:", 0) == 0) return atol(line.c_str() + 6);
    return 0;
}
}  // namespace perforch

long long perforch_call(perforch::Input& in, std::string* out, bool run);

int main(int argc, char** argv) {
    if (argc != 5) { fprintf(stderr, "usage: harness <input> <results> <warm-ups> <runs>\n"); return 2; }
    std::ifstream file(argv[1], std::ios::binary);
    std::stringstream buffer; buffer << file.rdbuf();
    perforch::Input in; in.data = buffer.str();
    int warmups = atoi(argv[3]), runs = atoi(argv[4]);
    long long cases; perforch::take(in, cases);
    std::vector<size_t> starts;
    for (long long c = 0; c < cases; c++) { starts.push_back(in.pos); perforch_call(in, nullptr, false); }
    std::string results;
    for (long long c = 0; c < cases; c++) {
        std::string line = "TIMES " + std::to_string(c);
        for (int call = 0; call < warmups + runs; call++) {
            in.pos = starts[c];
            long long nanos = perforch_call(in, call == 0 ? &results : nullptr, true);
            if (call >= warmups) line += " " + std::to_string(nanos);
        }
        printf("%s\n", line.c_str());
    }
    std::ofstream(argv[2], std::ios::binary) << results;
    printf("PEAK_RSS_KB %ld\n", perforch::peak_rss_kb());
    return 0;
}
