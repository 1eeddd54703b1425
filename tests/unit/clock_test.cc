#include <atomic>
#include <thread>

#include "catch2/catch.hpp"
#include "clock/clock.h"
#include "clock/stop_signal.h"

namespace aftersales {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'780'000'000);

TEST_CASE("a manual clock moves only when told, and never backwards") {
  ManualClock clock(kStart);
  CHECK(clock.Now() == kStart);
  REQUIRE(clock.Advance(absl::Minutes(5)).ok());
  CHECK(clock.Now() == kStart + absl::Minutes(5));
  REQUIRE(clock.SetTime(kStart + absl::Hours(1)).ok());
  CHECK(clock.Now() == kStart + absl::Hours(1));
  CHECK(clock.SetTime(kStart).code() == absl::StatusCode::kFailedPrecondition);
  CHECK(clock.Advance(absl::Seconds(-1)).code() == absl::StatusCode::kInvalidArgument);
  CHECK(clock.Now() == kStart + absl::Hours(1));
}

TEST_CASE("a timer waiting on a manual clock wakes when the clock passes its deadline") {
  ManualClock clock(kStart);
  std::atomic<bool> reached{false};
  std::thread timer([&] {
    // A long real wait: only the clock moving can end it early.
    reached = clock.WaitUntil(kStart + absl::Minutes(10), absl::Seconds(30));
  });
  REQUIRE(clock.Advance(absl::Minutes(9)).ok());
  absl::SleepFor(absl::Milliseconds(50));
  CHECK_FALSE(reached);
  const absl::Time before = absl::Now();
  REQUIRE(clock.Advance(absl::Minutes(1)).ok());
  timer.join();
  CHECK(reached);
  CHECK(absl::Now() - before < absl::Seconds(10));
}

TEST_CASE("waits end at the real-time cap or on shutdown without reaching the deadline") {
  ManualClock clock(kStart);
  CHECK_FALSE(clock.WaitUntil(kStart + absl::Hours(1), absl::Milliseconds(20)));
  CHECK(clock.WaitUntil(kStart, absl::Seconds(30)));  // already reached
  std::thread stopper([&] {
    absl::SleepFor(absl::Milliseconds(50));
    clock.Shutdown();
  });
  const absl::Time before = absl::Now();
  CHECK_FALSE(clock.WaitUntil(kStart + absl::Hours(1), absl::Seconds(30)));
  CHECK(absl::Now() - before < absl::Seconds(10));
  stopper.join();
  CHECK(clock.IsShutdown());

  RealClock real;
  const absl::Time t0 = real.Now();
  CHECK(real.WaitUntil(t0 + absl::Milliseconds(20), absl::Seconds(5)));
  CHECK(real.Now() >= t0 + absl::Milliseconds(20));
}

TEST_CASE("MakeClock accepts only real and manual") {
  CHECK_FALSE((*MakeClock("real", kStart))->manual());
  auto manual = MakeClock("manual", kStart);
  REQUIRE(manual.ok());
  CHECK((*manual)->manual());
  CHECK((*manual)->Now() == kStart);
  CHECK(MakeClock("fast", kStart).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a stop signal wakes waiters and runs callbacks once") {
  StopSignal stop;
  int calls = 0;
  stop.OnStop([&] { ++calls; });
  CHECK_FALSE(stop.WaitFor(absl::Milliseconds(10)));
  std::thread t([&] { stop.Stop(); });
  CHECK(stop.WaitFor(absl::Seconds(10)));
  t.join();
  stop.Stop();
  CHECK(calls == 1);
  stop.OnStop([&] { ++calls; });  // after the fact: runs at once
  CHECK(calls == 2);
}

}  // namespace
}  // namespace aftersales
