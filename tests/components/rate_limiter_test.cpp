// Rate limiters: the guarantee of each algorithm checked over every interval of long adversarial
// traces, the boundary rules pinned at exact nanoseconds, and retry_after checked to be the exact
// earliest admitting instant.
#include "components/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "core/random.hpp"

namespace dsim {

// Failure messages show times in nanoseconds (file-local: found by argument-dependent lookup).
[[maybe_unused]] static void PrintTo(const Time& t, std::ostream* os) {
  *os << t.count_ns() << "ns";
}

namespace {

constexpr uint64_t kKey = 7;
__extension__ typedef __int128 Wide;  // products of counts and nanoseconds

// An adversarial arrival trace: bursts of up to 40 requests at one instant, runs at one
// nanosecond spacing, gaps drawn from several scales (1 us .. 2 s), and requests landing exactly on
// multiples of `align` (window boundaries, token instants). Non-decreasing.
std::vector<Time> adversarial_trace(uint64_t seed, size_t n, Time align) {
  Rng rng = Rng::derive(seed, "rate_limiter_test", "trace");
  std::vector<Time> t;
  Time now = Time::zero();
  while (t.size() < n) {
    const uint64_t pattern = rng.below(6);
    if (pattern == 0) {  // a burst at one instant
      const uint64_t k = 1 + rng.below(40);
      for (uint64_t i = 0; i < k; ++i) t.push_back(now);
    } else if (pattern == 1) {  // a dense run
      const uint64_t k = 1 + rng.below(40);
      for (uint64_t i = 0; i < k; ++i) t.push_back(now + Time::ns(static_cast<int64_t>(i)));
      now += Time::ns(static_cast<int64_t>(k));
    } else if (pattern == 2) {  // the next boundary, or one nanosecond either side of it
      const int64_t a = align.count_ns();
      const int64_t next = (now.count_ns() / a + 1) * a;
      now = Time::ns(next + static_cast<int64_t>(rng.below(3)) - 1);
      t.push_back(now);
    } else {  // a gap at one of several scales
      static constexpr int64_t kScales[] = {1'000, 1'000'000, 50'000'000, 2'000'000'000};
      const int64_t scale = kScales[rng.below(4)];
      now += Time::ns(static_cast<int64_t>(rng.below(static_cast<uint64_t>(scale))) + 1);
      t.push_back(now);
    }
  }
  t.resize(n);
  return t;
}

// Feeds the trace to the limiter; returns the admitted instants. At every refusal it checks on
// copies of the limiter that retry_after is exact: admitted at now + retry_after, refused one
// nanosecond earlier.
std::vector<Time> run_checking_retry_after(RateLimiter& limiter, const std::vector<Time>& trace) {
  std::vector<Time> admitted;
  size_t checked = 0;
  for (const Time now : trace) {
    Time retry_after;
    if (limiter.admit(now, kKey, retry_after)) {
      admitted.push_back(now);
      continue;
    }
    EXPECT_GT(retry_after, Time::zero());
    if (checked++ % 7 != 0) continue;  // every 7th refusal: each check copies the state
    Time unused;
    auto at = limiter.clone();
    EXPECT_TRUE(at->admit(now + retry_after, kKey, unused))
        << "refused at " << now.count_ns() << " with retry_after " << retry_after.count_ns();
    auto before = limiter.clone();
    EXPECT_FALSE(before->admit(now + retry_after - Time::ns(1), kKey, unused))
        << "retry_after " << retry_after.count_ns() << " at " << now.count_ns()
        << " is later than needed";
  }
  EXPECT_GT(checked, 100u) << "the trace should provoke many refusals";
  return admitted;
}

// --- Token bucket ------------------------------------------------------------------------------

// Every interval [t_i, t_j] between two admissions holds j - i + 1 admissions; the worst interval
// of any length tau starts and ends at admissions, so checking all pairs checks every interval:
// j - i + 1 <= burst + rate * (t_j - t_i), in integers (rate per second is whole here).
void expect_token_bucket_bound(const std::vector<Time>& a, int64_t rate, int64_t burst) {
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = i; j < a.size(); ++j) {
      const auto count = static_cast<Wide>(j - i + 1);
      const Wide allowed_x1e9 = static_cast<Wide>(burst) * 1'000'000'000 +
                                static_cast<Wide>(rate) * (a[j] - a[i]).count_ns();
      if (count * 1'000'000'000 > allowed_x1e9) {
        FAIL() << j - i + 1 << " admissions in [" << a[i].count_ns() << ", " << a[j].count_ns()
               << "] ns exceed burst " << burst << " + rate " << rate << "/s x interval";
      }
    }
  }
}

TEST(TokenBucket, AdmitsAtMostBurstPlusRateTimesTauInEveryInterval) {
  for (const auto& [rate, burst] :
       std::vector<std::pair<int64_t, int64_t>>{{10, 20}, {3, 1}, {1000, 5}}) {
    SCOPED_TRACE("rate " + std::to_string(rate) + "/s, burst " + std::to_string(burst));
    TokenBucket bucket(static_cast<double>(rate), burst);
    const auto trace =
        adversarial_trace(11 + static_cast<uint64_t>(rate), 6000, Time::ns(bucket.interval_ns()));
    const std::vector<Time> admitted = run_checking_retry_after(bucket, trace);
    ASSERT_GT(admitted.size(), 100u);
    ASSERT_LT(admitted.size(), trace.size()) << "the trace must overload the bucket";
    expect_token_bucket_bound(admitted, rate, burst);
  }
}

// The bound is reached: arrivals every 1 ms against 100/s (a token every 10 ms) and a bucket of
// 10. The full bucket plus the tokens earned meanwhile admit 0..10 ms (11 requests: 10 + the one
// earned at 10 ms), then one every 10 ms: over [0, 10 s] exactly 10 + 10 s / 10 ms = 1010.
TEST(TokenBucket, ReachesTheBoundUnderSaturation) {
  TokenBucket bucket(100, 10);
  EXPECT_EQ(bucket.interval_ns(), 10'000'000);
  std::vector<Time> admitted;
  for (int64_t ms = 0; ms <= 10'000; ++ms) {
    Time retry_after;
    if (bucket.admit(Time::ms(ms), kKey, retry_after)) admitted.push_back(Time::ms(ms));
  }
  ASSERT_EQ(admitted.size(), 1010u);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(admitted[static_cast<size_t>(i)], Time::ms(i));
  EXPECT_EQ(admitted[11], Time::ms(20));
  EXPECT_EQ(admitted.back(), Time::s(10));
}

TEST(TokenBucket, RetryAfterIsTheTimeUntilTheNextToken) {
  TokenBucket bucket(4, 2);  // a token every 250 ms
  Time retry_after;
  EXPECT_TRUE(bucket.admit(Time::ms(1000), kKey, retry_after));
  EXPECT_TRUE(bucket.admit(Time::ms(1000), kKey, retry_after));
  EXPECT_FALSE(bucket.admit(Time::ms(1100), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(150));  // the first token back at 1250 ms
  EXPECT_FALSE(bucket.admit(Time::ms(1250) - Time::ns(1), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ns(1));
  EXPECT_TRUE(bucket.admit(Time::ms(1250), kKey, retry_after));
  EXPECT_EQ(bucket.forget_at(kKey), Time::ms(1750)) << "empty now: full two tokens later";
}

TEST(TokenBucket, IntervalIsRoundedUpSoTheRateIsNeverExceeded) {
  EXPECT_EQ(TokenBucket::interval_for(10), 100'000'000);
  EXPECT_EQ(TokenBucket::interval_for(3), 333'333'334);
  EXPECT_EQ(TokenBucket::interval_for(0.1), 10'000'000'000);
  EXPECT_EQ(TokenBucket::interval_for(1e9), 1);
  EXPECT_EQ(TokenBucket::interval_for(200), 5'000'000);  // 12k/min
}

TEST(TokenBucket, KeysHaveSeparateBuckets) {
  TokenBucket bucket(1, 1);
  Time retry_after;
  EXPECT_TRUE(bucket.admit(Time::s(1), 1, retry_after));
  EXPECT_FALSE(bucket.admit(Time::s(1), 1, retry_after));
  EXPECT_TRUE(bucket.admit(Time::s(1), 2, retry_after));
  EXPECT_EQ(bucket.forget_at(3), Time::zero()) << "a key never seen is fresh";
}

// --- Fixed window ------------------------------------------------------------------------------

// Windows are [kW, (k+1)W): `limit` requests in the last nanosecond of one window and `limit` at
// the first instant of the next are all admitted - twice the limit within one nanosecond.
TEST(FixedWindow, AdmitsTwiceItsLimitAcrossAWindowBoundary) {
  FixedWindow window(5, Time::s(1));
  int admitted = 0;
  Time retry_after;
  for (int i = 0; i < 6; ++i) admitted += window.admit(Time::s(1) - Time::ns(1), kKey, retry_after);
  EXPECT_EQ(admitted, 5);
  EXPECT_EQ(retry_after, Time::ns(1)) << "the sixth waits for the boundary";
  for (int i = 0; i < 6; ++i) admitted += window.admit(Time::s(1), kKey, retry_after);
  EXPECT_EQ(admitted, 10) << "2 x limit within [1s - 1ns, 1s]";
  EXPECT_EQ(retry_after, Time::s(1));
  EXPECT_EQ(window.forget_at(kKey), Time::s(2));
}

TEST(FixedWindow, NeverAdmitsMoreThanItsLimitWithinOneAlignedWindow) {
  const int64_t limit = 7;
  const Time w = Time::ms(300);
  FixedWindow window(limit, w);
  const auto trace = adversarial_trace(21, 6000, w);
  const std::vector<Time> admitted = run_checking_retry_after(window, trace);
  ASSERT_GT(admitted.size(), 100u);
  std::map<int64_t, int64_t> per_window;
  for (const Time t : admitted) ++per_window[t.count_ns() / w.count_ns()];
  bool reached = false;
  for (const auto& [index, count] : per_window) {
    EXPECT_LE(count, limit) << "window " << index;
    reached |= count == limit;
  }
  EXPECT_TRUE(reached);
}

// --- Sliding window log ------------------------------------------------------------------------

// Every window position: any half-open window of length W holds at most as many admissions as
// the window of the same length that starts at its first admission, so it suffices to count
// [t_k, t_k + W) for every admission k (two pointers).
void expect_log_bound(const std::vector<Time>& a, int64_t limit, Time w) {
  size_t end = 0;
  int64_t worst = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    while (end < a.size() && a[end] < a[k] + w) ++end;
    const auto count = static_cast<int64_t>(end - k);
    worst = std::max(worst, count);
    ASSERT_LE(count, limit) << "window [" << a[k].count_ns() << ", +" << w.count_ns() << ")";
  }
  EXPECT_EQ(worst, limit) << "the trace should fill some window";
}

TEST(SlidingWindowLog, NeverExceedsItsLimitInAnyWindow) {
  for (const auto& [limit, ms] :
       std::vector<std::pair<int64_t, int64_t>>{{5, 1000}, {1, 40}, {50, 250}}) {
    SCOPED_TRACE("limit " + std::to_string(limit) + " per " + std::to_string(ms) + "ms");
    SlidingWindowLog log(limit, Time::ms(ms));
    const auto trace = adversarial_trace(31 + static_cast<uint64_t>(limit), 6000, Time::ms(ms));
    expect_log_bound(run_checking_retry_after(log, trace), limit, Time::ms(ms));
  }
}

// The window is (now - W, now]: a request admitted at t stops counting at exactly t + W.
TEST(SlidingWindowLog, AnAdmissionStopsCountingExactlyOneWindowLater) {
  SlidingWindowLog log(2, Time::s(1));
  Time retry_after;
  EXPECT_TRUE(log.admit(Time::ms(100), kKey, retry_after));
  EXPECT_TRUE(log.admit(Time::ms(600), kKey, retry_after));
  EXPECT_FALSE(log.admit(Time::ms(1100) - Time::ns(1), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ns(1));
  EXPECT_TRUE(log.admit(Time::ms(1100), kKey, retry_after));
  EXPECT_FALSE(log.admit(Time::ms(1100), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(500)) << "the 600 ms admission leaves at 1600 ms";
  EXPECT_EQ(log.forget_at(kKey), Time::ms(2100));
}

// --- Sliding window counter --------------------------------------------------------------------

// The rule, pinned: with p admissions in the previous window, c in the current one and e of its
// W elapsed, a request is admitted iff p (W - e) / W + c + 1 <= limit - the estimate including
// the request itself must not exceed the limit (`<=`, not `<`; and not "estimate before < limit").
// Limit 10, W = 1 s, 10 admitted in window 0: in window 1 the estimate is 10 (1 - e/W) + c.
TEST(SlidingWindowCounter, BoundaryRuleIsEstimatePlusOneAtMostLimit) {
  SlidingWindowCounter counter(10, Time::s(1));
  Time retry_after;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(counter.admit(Time::ms(500), kKey, retry_after));
  EXPECT_FALSE(counter.admit(Time::ms(500), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(600)) << "the first instant that admits is 1.1 s";

  // e = 50 ms: the estimate before is 9.5 < 10, but 9.5 + 1 > 10: refused.
  EXPECT_FALSE(counter.admit(Time::ms(1050), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(50));
  // One nanosecond before e = 100 ms: 9.00000001 + 1 > 10: refused, 1 ns to wait.
  EXPECT_FALSE(counter.admit(Time::ms(1100) - Time::ns(1), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ns(1));
  // e = 100 ms exactly: 9 + 1 = 10 <= 10: admitted (a strict `<` would refuse it).
  EXPECT_TRUE(counter.admit(Time::ms(1100), kKey, retry_after));
  // Now c = 1: 10 (1 - e) + 1 + 1 <= 10 needs e >= 200 ms.
  EXPECT_FALSE(counter.admit(Time::ms(1200) - Time::ns(1), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ns(1));
  EXPECT_TRUE(counter.admit(Time::ms(1200), kKey, retry_after));
  EXPECT_EQ(counter.forget_at(kKey), Time::s(3)) << "window 1's count weighs until 3 s";
}

// With the current window full, the next window starts with previous = current and the wait
// runs into it: limit 4, 4 admitted at 0.1 s (window 0). In window 1 the first admission needs
// 4 (1 - e) + 1 <= 4, e >= 250 ms; refused at 0.2 s, the answer is 1.25 s - 0.2 s.
TEST(SlidingWindowCounter, RetryAfterRunsIntoTheNextWindow) {
  SlidingWindowCounter counter(4, Time::s(1));
  Time retry_after;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(counter.admit(Time::ms(100), kKey, retry_after));
  EXPECT_FALSE(counter.admit(Time::ms(200), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(1050));
  // Limit 1: after one admission the window after next is the first with room.
  SlidingWindowCounter one(1, Time::s(1));
  ASSERT_TRUE(one.admit(Time::ms(100), kKey, retry_after));
  EXPECT_FALSE(one.admit(Time::ms(100), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(1900));
  EXPECT_FALSE(one.admit(Time::ms(2000) - Time::ns(1), kKey, retry_after));
  EXPECT_TRUE(one.admit(Time::ms(2000), kKey, retry_after));
}

TEST(SlidingWindowCounter, EstimateNeverExceedsTheLimitAndRetryAfterIsExact) {
  const int64_t limit = 6;
  const Time w = Time::ms(500);
  SlidingWindowCounter counter(limit, w);
  const auto trace = adversarial_trace(41, 6000, w);
  const std::vector<Time> admitted = run_checking_retry_after(counter, trace);
  // After each admission, the weighted estimate (admissions of the previous aligned window
  // weighted by the part of it still inside the sliding window, plus the current window's)
  // is at most the limit: p (W - e) + c W <= limit W.
  std::map<int64_t, int64_t> per_window;
  for (const Time t : admitted) {
    const int64_t index = t.count_ns() / w.count_ns();
    const int64_t c = ++per_window[index];
    const int64_t p = per_window.count(index - 1) ? per_window[index - 1] : 0;
    const Wide e = t.count_ns() - static_cast<Wide>(index) * w.count_ns();
    ASSERT_LE(p * (w.count_ns() - e) + static_cast<Wide>(c) * w.count_ns(),
              static_cast<Wide>(limit) * w.count_ns())
        << "at " << t.count_ns();
  }
}

// --- Clocks that step back ----------------------------------------------------------------------

// The adversarial trace read on a clock that is stepped now and then (clock_skew's offsets start,
// change and end): each reading is the true instant plus the current step, which changes every
// few dozen requests to a value within +-3 s, never below zero. It goes back often.
std::vector<Time> stepped_readings(uint64_t seed, size_t n, Time align) {
  const std::vector<Time> trace = adversarial_trace(seed, n, align);
  Rng rng = Rng::derive(seed, "rate_limiter_test", "steps");
  std::vector<Time> readings;
  Time step;
  for (const Time t : trace) {
    if (rng.below(30) == 0) step = Time::ms(static_cast<int64_t>(rng.below(6001)) - 3000);
    readings.push_back(std::max(Time::zero(), t + step));
  }
  return readings;
}

// Feeds `readings` to `stepped` and `reference` at once, the reference seeing `as_seen(reading)`:
// both must decide alike, and the stepped limiter's retry_after must be the reference's plus the
// distance from the reading to what the reference saw.
template <class AsSeen>
void expect_same_decisions(RateLimiter& stepped, RateLimiter& reference,
                           const std::vector<Time>& readings, AsSeen as_seen) {
  size_t back = 0, refused = 0;
  Time last;
  for (size_t i = 0; i < readings.size(); ++i) {
    const Time now = readings[i];
    back += now < last;
    last = now;
    const Time seen = as_seen(now);
    Time r1, r2;
    const bool a1 = stepped.admit(now, kKey, r1);
    const bool a2 = reference.admit(seen, kKey, r2);
    ASSERT_EQ(a1, a2) << "reading " << i << " at " << now.count_ns();
    if (!a1) {
      ++refused;
      ASSERT_EQ(r1, r2 + (seen - now)) << "reading " << i;
      ASSERT_GT(r1, Time::zero());
    }
    ASSERT_EQ(stepped.forget_at(kKey), reference.forget_at(kKey));
  }
  EXPECT_GT(back, 50u) << "the readings should go back often";
  EXPECT_GT(refused, 100u);
}

// The window algorithms count a reading earlier than the latest one as the latest (a
// high-water mark): exactly the decisions the same limiter makes on the running maximum of the
// readings, whose guarantees (at most `limit` per window) therefore hold.
TEST(RateLimiterClockSteps, WindowsCountAnEarlierReadingAsTheLatestSeen) {
  const Time w = Time::ms(700);
  const std::vector<Time> readings = stepped_readings(41, 8000, w);
  std::vector<std::pair<std::unique_ptr<RateLimiter>, std::unique_ptr<RateLimiter>>> pairs;
  pairs.emplace_back(std::make_unique<FixedWindow>(5, w), std::make_unique<FixedWindow>(5, w));
  pairs.emplace_back(std::make_unique<SlidingWindowLog>(5, w),
                     std::make_unique<SlidingWindowLog>(5, w));
  pairs.emplace_back(std::make_unique<SlidingWindowCounter>(5, w),
                     std::make_unique<SlidingWindowCounter>(5, w));
  for (auto& [stepped, reference] : pairs) {
    Time high;
    expect_same_decisions(*stepped, *reference, readings, [&](Time now) {
      high = std::max(high, now);
      return high;
    });
  }
}

// The token bucket counts time before its last reading as no time at all: exactly the decisions
// of a bucket whose clock only ever moves on by the forward steps of the readings (their
// backward steps cut out), so it keeps its tokens across a step back and never gains any.
TEST(RateLimiterClockSteps, TokenBucketTreatsAStepBackAsNoTimeAtAll) {
  TokenBucket stepped(10, 4), reference(10, 4);
  const std::vector<Time> readings = stepped_readings(42, 8000, Time::ns(stepped.interval_ns()));
  Time previous, forward;
  bool first = true;
  size_t i = 0;
  size_t back = 0;
  Time last;
  for (const Time now : readings) {
    forward = first ? now : forward + std::max(Time::zero(), now - previous);
    first = false;
    previous = now;
    back += now < last;
    last = now;
    Time r1, r2;
    const bool a1 = stepped.admit(now, kKey, r1);
    const bool a2 = reference.admit(forward, kKey, r2);
    ASSERT_EQ(a1, a2) << "reading " << i << " at " << now.count_ns();
    if (!a1) {
      ASSERT_EQ(r1, r2) << "reading " << i;
    }
    ++i;
  }
  EXPECT_GT(back, 50u);
}

// A bucket emptied at 10 s whose clock is then stepped back 5 s keeps its debt (not 5 s more), and
// a step back by the whole range of the clock neither overflows nor goes below zero.
TEST(RateLimiterClockSteps, TokenBucketKeepsItsDebtAcrossAStepBack) {
  TokenBucket bucket(1, 3);  // a token a second, three at most
  Time retry_after;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.admit(Time::s(10), kKey, retry_after));
  EXPECT_FALSE(bucket.admit(Time::s(5), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::s(1)) << "one token short, as at 10 s";
  EXPECT_TRUE(bucket.admit(Time::s(6), kKey, retry_after));
  EXPECT_EQ(bucket.forget_at(kKey), Time::s(9));
  TokenBucket far(1, 1);
  EXPECT_TRUE(far.admit(Time::max() - Time::s(1), kKey, retry_after));
  EXPECT_FALSE(far.admit(Time::zero(), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::s(1));
  EXPECT_TRUE(far.admit(Time::s(1), kKey, retry_after));
}

// A fixed window whose clock steps back into an earlier window keeps counting in the latest one,
// so no window re-opens; retry_after counts to that window's end on the clock as it reads now.
TEST(RateLimiterClockSteps, AFixedWindowDoesNotReopenAnEarlierWindow) {
  FixedWindow window(2, Time::s(1));
  Time retry_after;
  EXPECT_TRUE(window.admit(Time::ms(9500), kKey, retry_after));
  EXPECT_TRUE(window.admit(Time::ms(9600), kKey, retry_after));
  EXPECT_FALSE(window.admit(Time::ms(4500), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(5500)) << "window 9 ends when the clock reads 10 s";
  EXPECT_TRUE(window.admit(Time::s(10), kKey, retry_after));
  window.forget(kKey);
  EXPECT_EQ(window.forget_at(kKey), Time::zero()) << "forgotten: a key never seen";
  EXPECT_TRUE(window.admit(Time::ms(4500), kKey, retry_after));
}

// --- Keys --------------------------------------------------------------------------------------

TEST(KeyMapping, DerivesApiKeysAndAddressesFromTheUser) {
  KeyMapping global{LimitKey::global, 3, 10};
  KeyMapping user{LimitKey::user, 3, 10};
  KeyMapping api{LimitKey::api_key, 3, 10};
  KeyMapping ip{LimitKey::ip, 3, 10};
  EXPECT_EQ(global(12345), 0u);
  EXPECT_EQ(user(12345), 12345u);
  EXPECT_EQ(api(12345), 0u);  // 12345 % 3
  EXPECT_EQ(api(7), 1u);
  EXPECT_EQ(ip(12345), 1234u);  // 12345 / 10
  EXPECT_EQ(ip(9), 0u);
  EXPECT_EQ(ip(10), 1u);
  EXPECT_EQ((KeyMapping{LimitKey::user, 3, 1}), (KeyMapping{LimitKey::user, 5, 2}))
      << "unused fields do not matter";
  EXPECT_NE((KeyMapping{LimitKey::api_key, 3, 1}), (KeyMapping{LimitKey::api_key, 5, 1}));
}

TEST(RateLimiter, FactoryBuildsEachAlgorithm) {
  RateLimitConfig c;
  c.algorithm = RateAlgorithm::fixed_window;
  c.limit = 2;
  c.window = Time::s(1);
  auto l = make_rate_limiter(c);
  Time retry_after;
  EXPECT_TRUE(l->admit(Time::ms(10), kKey, retry_after));
  EXPECT_TRUE(l->admit(Time::ms(10), kKey, retry_after));
  EXPECT_FALSE(l->admit(Time::ms(10), kKey, retry_after));
  EXPECT_EQ(retry_after, Time::ms(990));
  EXPECT_NE(dynamic_cast<FixedWindow*>(l.get()), nullptr);
  c.algorithm = RateAlgorithm::sliding_window_log;
  EXPECT_NE(dynamic_cast<SlidingWindowLog*>(make_rate_limiter(c).get()), nullptr);
  c.algorithm = RateAlgorithm::sliding_window_counter;
  EXPECT_NE(dynamic_cast<SlidingWindowCounter*>(make_rate_limiter(c).get()), nullptr);
  c.algorithm = RateAlgorithm::token_bucket;
  EXPECT_NE(dynamic_cast<TokenBucket*>(make_rate_limiter(c).get()), nullptr);
}

}  // namespace
}  // namespace dsim
