#include "output/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace dsim {

TEST(JsonWriter, WritesNestedObjectsAndArraysCompactly) {
  JsonWriter j(/*pretty=*/false);
  j.begin_object();
  j.key("a").value(int64_t{1});
  j.key("b").begin_array().value("x").value(true).null().end_array();
  j.key("c").begin_object().end_object();
  j.end_object();
  EXPECT_EQ(j.str(), R"({"a":1,"b":["x",true,null],"c":{}})");
}

TEST(JsonWriter, PrettyOutputIndentsAndEndsWithANewline) {
  JsonWriter j;
  j.begin_object().key("k").value(uint64_t{2}).end_object();
  EXPECT_EQ(j.str(), "{\n  \"k\": 2\n}\n");
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  JsonWriter j(false);
  j.begin_array().value(INFINITY).value(NAN).value(0.5).end_array();
  EXPECT_EQ(j.str(), "[null,null,0.5]");
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonWriter::escape("a\"b\\c\nd\te\x01"), "a\\\"b\\\\c\\nd\\te\\u0001");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonWriter::escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(JsonWriter::escape("a\xff"
                               "b"),
            "a\\ufffdb");
  EXPECT_EQ(JsonWriter::escape("\xc3"), "\\ufffd");                        // truncated sequence
  EXPECT_EQ(JsonWriter::escape("\xc0\xaf"), "\\ufffd\\ufffd");             // overlong '/'
  EXPECT_EQ(JsonWriter::escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd");  // a surrogate
}

}  // namespace dsim
