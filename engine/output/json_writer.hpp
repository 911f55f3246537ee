// A small streaming JSON writer with deterministic number formatting (results are compared byte
// for byte across runs, so no locale and no platform-dependent float printing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsim {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(double v);  // non-finite numbers become null
  JsonWriter& value(int64_t v);
  JsonWriter& value(uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  // A number already rendered as JSON text (e.g. fixed_point_text's exact decimals).
  JsonWriter& raw_number(std::string_view text);

  const std::string& str() const { return out_; }

  static std::string escape(std::string_view s);

 private:
  void before_value();
  void newline();
  std::string out_;
  bool pretty_;
  // Per open container: has it had an element yet?
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace dsim
