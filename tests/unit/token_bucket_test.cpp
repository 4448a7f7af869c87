// The token bucket behind the per-source flood limit: burst, refill, idle, time going back.
#include <catch2/catch.hpp>

#include "core/token_bucket.hpp"

using sb::core::TokenBucket;

TEST_CASE("a token bucket allows its burst, then its rate") {
  TokenBucket b(10, 3, 1000);  // 10/s, burst 3
  CHECK(b.take(1000));
  CHECK(b.take(1000));
  CHECK(b.take(1000));
  CHECK_FALSE(b.take(1000));  // burst spent
  CHECK_FALSE(b.take(1099));  // 0.99 of a token after 99 ms
  CHECK(b.take(1100));        // one token after 100 ms
  CHECK_FALSE(b.take(1100));
}

TEST_CASE("a token bucket never stores more than its burst") {
  TokenBucket b(100, 2, 0);
  CHECK(b.take(0));
  CHECK(b.idle(60'000) == true);  // refilled to the burst, not beyond
  CHECK(b.take(60'000));
  CHECK(b.take(60'000));
  CHECK_FALSE(b.take(60'000));
}

TEST_CASE("time going backwards adds no tokens") {
  TokenBucket b(1, 1, 5000);
  CHECK(b.take(5000));
  CHECK_FALSE(b.take(4000));
  CHECK_FALSE(b.take(5000));
  CHECK(b.take(6000));
}
