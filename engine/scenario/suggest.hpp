// "Did you mean ...?" for misspelt keys, kinds and component names, and other helpers that put
// user text into messages.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dsim {

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within a distance that scales with the word's length, or "" if none is
// close enough to be a plausible typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// The same with the distance given: tests count which candidates it is computed for (a
// candidate whose length alone rules it out must cost nothing, however long it is).
using DistanceFunction = std::function<size_t(std::string_view, std::string_view)>;
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates,
                          const DistanceFunction& distance);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// "a, b or c" for messages that list the valid choices.
std::string join_choices(const std::vector<std::string>& choices);

// 'text' in quotes, for echoing user input in a message: control characters are escaped (\n,
// \t, \x01) so that a message stays on one line, and text beyond 60 bytes is cut with "...".
std::string quote_text(std::string_view text);

}  // namespace dsim
