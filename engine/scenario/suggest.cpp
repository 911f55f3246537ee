#include "scenario/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace dsim {
namespace {

bool same_letter(char a, char b) {
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

constexpr size_t kMaxWordLength = 64;  // nobody mistypes 64 characters; keeps the cost bounded
constexpr size_t kMaxQuoted = 60;

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows (the transposition looks two rows back): O(|b|) memory, not O(|a| |b|).
  const size_t m = b.size();
  std::vector<size_t> before(m + 1), previous(m + 1), current(m + 1);
  for (size_t j = 0; j <= m; ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = same_letter(a[i - 1], b[j - 1]) ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) && same_letter(a[i - 2], b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  return closest_match(word, candidates, edit_distance);
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates,
                          const DistanceFunction& distance) {
  if (word.size() > kMaxWordLength) return {};
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, (word.size() + 2) / 3));
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    // The distance is at least the difference in length: skip hopeless (and huge) candidates
    // without computing it.
    const size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap >= best_distance) continue;
    const size_t dist = distance(word, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string best = closest_match(word, candidates);
  return best.empty() ? std::string() : " (did you mean " + quote_text(best) + "?)";
}

std::string join_choices(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += (i + 1 == choices.size()) ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

std::string quote_text(std::string_view text) {
  bool cut = false;
  if (text.size() > kMaxQuoted) {
    size_t end = kMaxQuoted;
    // Do not split a UTF-8 sequence: back up to the start of the character.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out = "'";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

}  // namespace dsim
