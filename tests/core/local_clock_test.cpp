// LocalClock: a component's clock under clock_skew - offsets step it, rates bend it without a
// jump, the drift is dropped when the rate is back to 1, it never reads before zero, and when()
// is the exact inverse of read().
#include "core/local_clock.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace dsim {

[[maybe_unused]] static void PrintTo(const Time& t, std::ostream* os) {
  *os << t.count_ns() << "ns";
}

namespace {

TEST(LocalClock, ReadsTheTrueTimeUntilItIsSkewed) {
  LocalClock c;
  EXPECT_TRUE(c.exact());
  EXPECT_EQ(c.read(Time::ms(1234)), Time::ms(1234));
  EXPECT_EQ(c.when(Time::s(5), Time::s(1)), Time::s(5));
  EXPECT_EQ(c.when(Time::s(1), Time::s(5)), Time::s(5)) << "already passed: now";
}

TEST(LocalClock, AnOffsetStepsTheReadingAtOnceAndBackWhenItEnds) {
  LocalClock c;
  c.retune(Time::s(1), 1, Time::ms(300));
  EXPECT_EQ(c.read(Time::s(1)), Time::ms(1300));
  EXPECT_EQ(c.read(Time::s(2)), Time::ms(2300));
  EXPECT_EQ(c.when(Time::s(3), Time::s(2)), Time::ms(2700));
  c.retune(Time::s(3), 1, Time::zero());
  EXPECT_EQ(c.read(Time::s(3)), Time::s(3)) << "stepped back by 300 ms";
  EXPECT_TRUE(c.exact());
}

TEST(LocalClock, ARateBendsTheReadingWithoutAJump) {
  LocalClock c;
  c.retune(Time::s(1), 2, Time::zero());
  EXPECT_EQ(c.read(Time::s(1)), Time::s(1));
  EXPECT_EQ(c.read(Time::ms(1500)), Time::s(2));
  EXPECT_EQ(c.read(Time::s(1) + Time::ns(7)), Time::s(1) + Time::ns(14));
  c.retune(Time::s(2), 0.5, Time::zero());  // from 3 s on, half speed
  EXPECT_EQ(c.read(Time::s(2)), Time::s(3));
  EXPECT_EQ(c.read(Time::s(4)), Time::s(4));
  EXPECT_EQ(c.when(Time::s(5), Time::s(4)), Time::s(6));
  EXPECT_FALSE(c.exact());
}

TEST(LocalClock, TheDriftIsDroppedWhenTheRateIsBackToOne) {
  LocalClock c;
  c.retune(Time::s(1), 2, Time::ms(100));
  EXPECT_EQ(c.read(Time::s(3)), Time::ms(5100));
  c.retune(Time::s(3), 1, Time::ms(100));  // the rate skew ends, the offset stays
  EXPECT_EQ(c.read(Time::s(3)), Time::ms(3100)) << "set right: back by the 2 s it had gained";
  c.retune(Time::s(4), 1, Time::zero());
  EXPECT_EQ(c.read(Time::s(4)), Time::s(4));
  EXPECT_TRUE(c.exact());
}

TEST(LocalClock, NeverReadsBeforeZero) {
  LocalClock c;
  c.retune(Time::s(1), 1, Time::s(-5));
  EXPECT_EQ(c.read(Time::s(2)), Time::zero());
  EXPECT_EQ(c.read(Time::s(5)), Time::zero());
  EXPECT_EQ(c.read(Time::s(6)), Time::s(1));
  EXPECT_EQ(c.when(Time::ns(1), Time::s(2)), Time::s(5) + Time::ns(1));
}

// A rate that is not a power of two: held in parts per billion, so 1.15 is exactly 1.15.
TEST(LocalClock, FractionalRatesAreExactAndWhenInvertsRead) {
  LocalClock c;
  c.retune(Time::s(2), 1.15, Time::ms(-700));
  EXPECT_EQ(c.read(Time::s(3)), Time::ms(2450));
  Rng rng = Rng::derive(1, "local_clock_test", "instants");
  for (int i = 0; i < 2000; ++i) {
    const Time now = Time::s(2) + Time::ns(static_cast<int64_t>(rng.below(5'000'000'000)));
    const Time local = Time::ns(static_cast<int64_t>(rng.below(20'000'000'000)));
    const Time t = c.when(local, now);
    ASSERT_GE(t, now);
    ASSERT_GE(c.read(t), local);
    if (t > now) {
      ASSERT_LT(c.read(t - Time::ns(1)), local) << "the first such instant";
    }
  }
}

TEST(LocalClock, SaturatesInsteadOfOverflowing) {
  LocalClock c;
  c.retune(Time::zero(), 100, Time::zero());
  EXPECT_LT(c.read(Time::s(1'000'000'000)), Time::max());
  EXPECT_EQ(c.when(Time::max() - Time::ns(1), Time::zero()), Time::ns(92'233'720'368'547'759));
}

}  // namespace
}  // namespace dsim
