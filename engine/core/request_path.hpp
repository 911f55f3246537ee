// Request paths: what a source's requests ask for (`/orders/checkout`), and how a route's path
// prefix matches them.
//
// A request does not carry its path: every request of a source has the source's path, and a
// request keeps its source (Request::source) through retries and forwards, so whoever routes by
// path resolves it from the source once, at start, and never compares text per request. (A
// queue's messages are requests of the queue's own: they have no path.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsim {

// Why `path` is not a request path, or "" if it is; `at` is then the offending character. A path
// starts with '/' and holds no whitespace, control characters, query ('?') or fragment ('#'): a
// route matches the path alone. Paths are compared as written (no normalisation of `//`, `.` or
// percent-encoding).
inline std::string path_problem(std::string_view path, size_t& at) {
  at = 0;
  if (path.empty() || path[0] != '/') return "a path starts with '/'";
  for (size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    at = i;
    if (c <= ' ' || c == 0x7f) return "a path has no spaces or control characters";
    if (c == '?' || c == '#') return "a path has no query or fragment ('?' or '#')";
  }
  at = 0;
  return {};
}

// Whether `prefix` matches `path` segment by segment, as Envoy's path_separated_prefix does:
// `/orders` matches `/orders` and `/orders/42` but not `/orders-v2` (which a plain string prefix,
// Envoy's `prefix` or nginx's `location /orders`, would take). A prefix ending in '/' matches
// what it is a plain prefix of (its slash is the segment boundary): `/` matches every path,
// `/orders/` matches `/orders/42` but not `/orders`, as nginx's `location /orders/` does.
inline bool path_has_prefix(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || prefix.ends_with('/') || path[prefix.size()] == '/';
}

}  // namespace dsim
