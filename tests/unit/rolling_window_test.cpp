// The status page's 15-minute figures: buckets age out, answers within 20 s are a subset.
#include <catch2/catch.hpp>

#include "core/rolling_window.hpp"

using sb::core::RollingWindow;

TEST_CASE("a rolling window sums the last 15 minutes") {
  RollingWindow w;
  const std::int64_t t0 = 1'795'485'600;  // on a minute boundary
  w.add(t0, true, true);
  w.add(t0 + 30, true, false);
  w.add(t0 + 59, false, false);
  auto now = w.totals(t0 + 59);
  CHECK(now.offered == 3);
  CHECK(now.answered == 2);
  CHECK(now.answered_20s == 1);
  w.add(t0 + 14 * 60, true, true);
  CHECK(w.totals(t0 + 14 * 60).offered == 4);
  // Fifteen minutes later the first minute has aged out; the last one is still there.
  CHECK(w.totals(t0 + 15 * 60).offered == 1);
  CHECK(w.totals(t0 + 29 * 60).offered == 0);
}

TEST_CASE("a bucket reused after a full turn starts from zero") {
  RollingWindow w;
  const std::int64_t t0 = 1'795'485'600;
  w.add(t0, true, true);
  w.add(t0 + 15 * 60, false, false);  // same ring slot, 15 minutes later
  auto t = w.totals(t0 + 15 * 60);
  CHECK(t.offered == 1);
  CHECK(t.answered == 0);
}
