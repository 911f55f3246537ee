#include "core/time.hpp"

#include <gtest/gtest.h>

namespace dsim {

TEST(Time, UnitConstructorsAgreeInNanoseconds) {
  EXPECT_EQ(Time::us(250).count_ns(), 250'000);
  EXPECT_EQ(Time::ms(50).count_ns(), 50'000'000);
  EXPECT_EQ(Time::s(2), Time::ms(2000));
}

TEST(Time, FromSecondsRoundsToNearestNanosecond) {
  EXPECT_EQ(Time::from_seconds(1.5e-9).count_ns(), 2);
  EXPECT_EQ(Time::from_seconds(1.4e-9).count_ns(), 1);
  EXPECT_EQ(Time::from_seconds(0.9).count_ns(), 900'000'000);
}

TEST(Time, FromSecondsSaturatesInsteadOfOverflowing) {
  EXPECT_TRUE(Time::from_seconds(1e300).is_max());
  EXPECT_TRUE(Time::from_seconds(std::numeric_limits<double>::infinity()).is_max());
  EXPECT_TRUE(Time::from_seconds(std::numeric_limits<double>::quiet_NaN()).is_max());
}

TEST(Time, NeverPlusADelayIsStillNever) {
  EXPECT_TRUE((Time::max() + Time::s(1)).is_max());
  EXPECT_TRUE((Time::s(1) + Time::max()).is_max());
}

TEST(Time, SumsSaturateInsteadOfWrappingIntoThePast) {
  const Time big = Time::s(9'000'000'000);  // 285 years
  EXPECT_TRUE((big + big).is_max());
  EXPECT_GT(big + big, big);
}

TEST(Time, OrdersLikeItsNanosecondCount) {
  EXPECT_LT(Time::ns(1), Time::ns(2));
  EXPECT_EQ(Time::s(3) - Time::s(1), Time::s(2));
}

}  // namespace dsim
