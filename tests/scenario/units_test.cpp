// The unit parsers of engine/scenario/units.hpp: every accepted spelling and every rejection.
#include "scenario/units.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace dsim {
namespace {

int64_t ns_of(std::string_view text) {
  Parsed<Time> p = parse_duration(text);
  EXPECT_TRUE(p.value.has_value()) << text << ": " << p.error;
  return p.value ? p.value->count_ns() : -1;
}

std::string duration_error(std::string_view text) {
  Parsed<Time> p = parse_duration(text);
  EXPECT_FALSE(p.value.has_value()) << text << " was accepted";
  return p.error;
}

double rate_of(std::string_view text) {
  Parsed<double> p = parse_rate(text);
  EXPECT_TRUE(p.value.has_value()) << text << ": " << p.error;
  return p.value.value_or(-1);
}

std::string rate_error(std::string_view text) {
  Parsed<double> p = parse_rate(text);
  EXPECT_FALSE(p.value.has_value()) << text << " was accepted";
  return p.error;
}

TEST(Units, DurationsInEveryUnit) {
  EXPECT_EQ(ns_of("250us"), 250'000);
  EXPECT_EQ(ns_of("250µs"), 250'000);
  EXPECT_EQ(ns_of("50ms"), 50'000'000);
  EXPECT_EQ(ns_of("2s"), 2'000'000'000);
  EXPECT_EQ(ns_of("2sec"), 2'000'000'000);
  EXPECT_EQ(ns_of("1.5m"), 90'000'000'000);
  EXPECT_EQ(ns_of("1.5min"), 90'000'000'000);
  EXPECT_EQ(ns_of("1h"), 3'600'000'000'000);
  EXPECT_EQ(ns_of("1hr"), 3'600'000'000'000);
  EXPECT_EQ(ns_of("1d"), 86'400'000'000'000);
  EXPECT_EQ(ns_of("7ns"), 7);
}

TEST(Units, DurationSpellingVariants) {
  EXPECT_EQ(ns_of(" 2 s "), 2'000'000'000);  // spaces around the number and the unit
  EXPECT_EQ(ns_of("+3ms"), 3'000'000);
  EXPECT_EQ(ns_of("1e3ms"), 1'000'000'000);
  EXPECT_EQ(ns_of(".5s"), 500'000'000);
  EXPECT_EQ(ns_of("0"), 0);  // a bare zero needs no unit
  EXPECT_EQ(ns_of("0s"), 0);
  EXPECT_EQ(ns_of("-0s"), 0);
  EXPECT_EQ(ns_of("1.5ns"), 2);  // rounded to the nearest nanosecond
}

TEST(Units, DurationRejections) {
  EXPECT_EQ(duration_error("50"),
            "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h (the unit is missing)");
  EXPECT_EQ(duration_error("50 parsecs"),
            "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h ('parsecs' is not a time "
            "unit)");
  EXPECT_EQ(duration_error("ms"), "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h");
  EXPECT_EQ(duration_error(""), "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h");
  EXPECT_EQ(duration_error("-5ms"), "a duration that is not negative");
  EXPECT_EQ(duration_error("300y"),
            "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h ('y' is not a time unit)");
  EXPECT_EQ(duration_error("1e10s"), "a duration of at most 100 years");
  EXPECT_EQ(duration_error("1e308h"), "a duration of at most 100 years");
  EXPECT_EQ(duration_error("2MS"),
            "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h ('MS' is not a time unit)");
  // Not numbers at all: non-finite values are refused, not turned into "forever".
  EXPECT_FALSE(parse_duration("inf s").value);
  EXPECT_FALSE(parse_duration("nan s").value);
  EXPECT_FALSE(parse_duration("infs").value);
  EXPECT_FALSE(parse_duration("1e400s").value);
  EXPECT_FALSE(parse_duration("0x10s").value);
}

TEST(Units, RatesArePerSecond) {
  EXPECT_DOUBLE_EQ(rate_of("200/s"), 200);
  EXPECT_DOUBLE_EQ(rate_of("200/sec"), 200);
  EXPECT_DOUBLE_EQ(rate_of("12k/min"), 200);
  EXPECT_DOUBLE_EQ(rate_of("0.5/ms"), 500);
  EXPECT_DOUBLE_EQ(rate_of("3M/h"), 3e6 / 3600);
  EXPECT_DOUBLE_EQ(rate_of("1/us"), 1e6);
  EXPECT_DOUBLE_EQ(rate_of("86400/d"), 1);
  EXPECT_DOUBLE_EQ(rate_of("60/m"), 1);
  EXPECT_DOUBLE_EQ(rate_of(" 5 / s "), 5);
  EXPECT_DOUBLE_EQ(rate_of("0/s"), 0);  // a paused source is allowed
}

TEST(Units, RateRejections) {
  EXPECT_EQ(rate_error("200"), "a rate such as 200/s, 12k/min or 0.5/ms (the '/unit' is missing)");
  EXPECT_EQ(rate_error("200/fortnight"),
            "a rate such as 200/s, 12k/min or 0.5/ms ('fortnight' is not a time unit)");
  EXPECT_EQ(rate_error("200x/s"), "a rate such as 200/s, 12k/min or 0.5/ms ('x' is not k or M)");
  EXPECT_EQ(rate_error("fast/s"), "a rate such as 200/s, 12k/min or 0.5/ms");
  EXPECT_EQ(rate_error("-3/s"), "a rate that is not negative");
  EXPECT_EQ(rate_error("/s"), "a rate such as 200/s, 12k/min or 0.5/ms");
  // Beyond one per nanosecond the engine's clock cannot tell arrivals apart, and an infinite rate
  // would keep a run at time zero forever.
  EXPECT_EQ(rate_error("1e308k/s"), "a rate of at most 1/ns (1e9/s)");
  EXPECT_EQ(rate_error("2/ns"), "a rate of at most 1/ns (1e9/s)");
  EXPECT_EQ(rate_error("1e308/ns"), "a rate of at most 1/ns (1e9/s)");
  EXPECT_DOUBLE_EQ(rate_of("1/ns"), 1e9);
  EXPECT_FALSE(parse_rate("inf/s").value);
  EXPECT_FALSE(parse_rate("nan/s").value);
  EXPECT_FALSE(parse_rate("5/s/s").value);
}

TEST(Units, Sizes) {
  EXPECT_EQ(parse_size("512B").value, 512);
  EXPECT_EQ(parse_size("64KiB").value, 65536);
  EXPECT_EQ(parse_size("2GiB").value, int64_t{2} << 30);
  EXPECT_EQ(parse_size("1TiB").value, int64_t{1} << 40);
  EXPECT_EQ(parse_size("1.5MB").value, 1'500'000);
  EXPECT_EQ(parse_size("3kB").value, 3000);
  EXPECT_EQ(parse_size("3KB").value, 3000);
  EXPECT_EQ(parse_size("1GB").value, 1'000'000'000);
  EXPECT_EQ(parse_size("0B").value, 0);
}

TEST(Units, SizeRejections) {
  EXPECT_EQ(parse_size("64").error, "a size such as 512B, 64KiB or 2GiB (the unit is missing)");
  EXPECT_EQ(parse_size("64 furlongs").error,
            "a size such as 512B, 64KiB or 2GiB ('furlongs' is not a size unit)");
  EXPECT_EQ(parse_size("64kib").error,
            "a size such as 512B, 64KiB or 2GiB ('kib' is not a size unit)");
  EXPECT_EQ(parse_size("big").error, "a size such as 512B, 64KiB or 2GiB");
  EXPECT_EQ(parse_size("-1B").error, "a size between 0B and 8EiB");
  EXPECT_EQ(parse_size("10000000TB").error, "a size between 0B and 8EiB");
}

TEST(Units, Fractions) {
  EXPECT_DOUBLE_EQ(*parse_fraction("0.1%").value, 0.001);
  EXPECT_DOUBLE_EQ(*parse_fraction("95%").value, 0.95);
  EXPECT_DOUBLE_EQ(*parse_fraction("100%").value, 1.0);
  EXPECT_DOUBLE_EQ(*parse_fraction("0.25").value, 0.25);
  EXPECT_DOUBLE_EQ(*parse_fraction("0").value, 0.0);
  EXPECT_DOUBLE_EQ(*parse_fraction("1").value, 1.0);
  EXPECT_DOUBLE_EQ(*parse_fraction("30 %").value, 0.3);
}

TEST(Units, FractionRejections) {
  EXPECT_EQ(parse_fraction("150%").error, "a fraction between 0 and 1 (0% to 100%)");
  EXPECT_EQ(parse_fraction("1.5").error, "a fraction between 0 and 1 (0% to 100%)");
  EXPECT_EQ(parse_fraction("-1%").error, "a fraction between 0 and 1 (0% to 100%)");
  EXPECT_EQ(parse_fraction("half").error, "a fraction such as 0.25 or a percentage such as 0.1%");
  EXPECT_EQ(parse_fraction("5 percent").error,
            "a fraction such as 0.25 or a percentage such as 0.1%");
  EXPECT_FALSE(parse_fraction("nan%").value);
}

TEST(Units, Counts) {
  EXPECT_EQ(parse_count("8").value, 8);
  EXPECT_EQ(parse_count("10k").value, 10'000);
  EXPECT_EQ(parse_count("1M").value, 1'000'000);
  EXPECT_EQ(parse_count("1e6").value, 1'000'000);
  EXPECT_EQ(parse_count("1.5k").value, 1'500);
  EXPECT_EQ(parse_count("0").value, 0);
  EXPECT_EQ(parse_count("-3").value, -3);  // range checks are the caller's
  EXPECT_EQ(parse_count("9e18").value, 9'000'000'000'000'000'000);
}

TEST(Units, CountRejections) {
  EXPECT_EQ(parse_count("1.5").error, "a whole number such as 8, 10k or 1e6 (not a fraction)");
  EXPECT_EQ(parse_count("1.0001k").error, "a whole number such as 8, 10k or 1e6 (not a fraction)");
  EXPECT_EQ(parse_count("eight").error, "a whole number such as 8, 10k or 1e6");
  EXPECT_EQ(parse_count("8 workers").error, "a whole number such as 8, 10k or 1e6");
  EXPECT_EQ(parse_count("10K").error, "a whole number such as 8, 10k or 1e6");
  EXPECT_EQ(parse_count("1e19").error, "a whole number below 9e18");
  EXPECT_EQ(parse_count("-1e19").error, "a whole number below 9e18");
  EXPECT_FALSE(parse_count("inf").value);
  EXPECT_FALSE(parse_count("nan").value);
  EXPECT_FALSE(parse_count("").value);
}

TEST(Units, PlainNumbers) {
  EXPECT_DOUBLE_EQ(*parse_number("1.25").value, 1.25);
  EXPECT_DOUBLE_EQ(*parse_number("-2").value, -2);
  EXPECT_DOUBLE_EQ(*parse_number("1e3").value, 1000);
  EXPECT_EQ(parse_number("1.2.3").error, "a number");
  EXPECT_EQ(parse_number("2s").error, "a number");
  EXPECT_EQ(parse_number("1,5").error, "a number");  // "C" locale: no decimal comma
  EXPECT_FALSE(parse_number("inf").value);
  EXPECT_FALSE(parse_number("-inf").value);
  EXPECT_FALSE(parse_number("nan").value);
  EXPECT_FALSE(parse_number("1e309").value);
}

}  // namespace
}  // namespace dsim
