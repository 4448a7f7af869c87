// The call path reads the snapshot without allocating (style.md: the call path never waits;
// a malloc under load is a lock and a page fault away from waiting). Counted by replacing
// the global operator new for this test binary.
#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include "core/china_time.hpp"
#include "core/decide.hpp"
#include "core/dialled.hpp"
#include "core/routing_table.hpp"
#include "decide_tables.hpp"
#include "sample_tables.hpp"

namespace {

std::atomic<long> g_allocations{0};
// Sinks that keep the optimiser from dropping the queries under test.
std::size_t found_topic_route_ = 0;
std::size_t open_ = 0;

// Out of line so GCC, inlining the replaced operators into std::string, does not pair the
// `new` it sees with a bare free() (-Wmismatched-new-delete).
[[gnu::noinline]] void release(void* p) noexcept { std::free(p); }

}  // namespace

// Every non-aligned form is replaced, so each allocation is counted and every pair matches
// (AddressSanitizer checks new/delete pairing).
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
void operator delete(void* p) noexcept { release(p); }
void operator delete(void* p, std::size_t) noexcept { release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { release(p); }
void operator delete[](void* p) noexcept { release(p); }
void operator delete[](void* p, std::size_t) noexcept { release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { release(p); }

TEST_CASE("call-path queries do not allocate", "[lookup][alloc]") {
  const sb::core::BuildResult built = sb::core::buildTable(sb::test::sampleSpec(), 1);
  REQUIRE(built.table);
  const sb::core::RoutingTable& table = *built.table;

  const long before = g_allocations.load();
  int found = 0;
  for (int i = 0; i < 100; ++i) {
    const sb::core::DialResult dialled = sb::core::parseDialled("123330512");
    found += dialled.ok() ? 1 : 0;
    found += table.areaCode(dialled.dialled.area_code).has_value() ? 1 : 0;
    found += table.lookup(320505).route != nullptr ? 1 : 0;
    found += table.lookup(440300).route != nullptr ? 1 : 0;
    found += table.knownRegion(320506) ? 1 : 0;
    found += table.callerRegion("13905121234").has_value() ? 1 : 0;
    found += table.callerRegion("051268001234").has_value() ? 1 : 0;
    found += table.trunkBySource("10.0.2.1") != nullptr ? 1 : 0;
    found += table.findTrunk("js-suzhou") != nullptr ? 1 : 0;
  }
  const long after = g_allocations.load();
  CHECK(found == 900);
  CHECK(after - before == 0);
}

TEST_CASE("the routing decision allocates only its candidate vector", "[decide][alloc]") {
  const sb::core::BuildResult built = sb::core::buildTable(sb::test::decideSpec(), 1);
  REQUIRE(built.table);
  const sb::core::RoutingTable& table = *built.table;
  const std::int64_t weekday = *sb::core::parseTimeText("2026-09-28T10:00");
  const std::int64_t night = *sb::core::parseTimeText("2026-09-28T22:00");
  struct Call {
    const char* dialled;
    const char* caller;
    const char* topic;
    std::int64_t now;
  };
  // Every stage and outcome: caller regions in all forms, topics valid and not, closed and
  // all-closed candidates, rejected numbers, and a caller number far too long.
  const Call calls[] = {
      {"12333", "+8613007501234", "", weekday},
      {"12333", "0086037161234567", "0202", weekday},
      {"12333", "+86123456789012345678901234567890", "", weekday},
      {"12333", "anonymous", "x", night},
      {"12333320500", "", "0202", weekday},
      {"12333320500", "", "0202", night},
      {"123330571", "", "9999", weekday},
      {"12333330100", "", "", night},
      {"12333440300", "", "", weekday},
      {"12333abc", "", "", weekday},
  };
  sb::core::Decision decision;
  decision.candidates.reserve(8);  // the daemon keeps one with room for any route
  const long before = g_allocations.load();
  std::size_t forwarded = 0;
  for (int i = 0; i < 100; ++i) {
    for (const Call& call : calls) {
      sb::core::DecideInput input;
      input.dialled = call.dialled;
      input.caller = call.caller;
      input.topic = call.topic;
      input.now_unix = call.now;
      input.random = static_cast<std::uint64_t>(i);
      sb::core::decide(table, input, decision);
      forwarded += decision.forward() ? 1 : 0;
    }
    found_topic_route_ += table.lookup(320100, sb::core::firstLevelOf(202)).route != nullptr;
    open_ += table.findTrunk("js-suzhou")->openAt(weekday + i) ? 1 : 0;
  }
  const long after = g_allocations.load();
  CHECK(after - before == 0);
  CHECK(forwarded == 700);  // three of the ten are rejected

  // Without a reused Decision: one allocation, the candidate vector; none when rejected.
  sb::core::DecideInput input;
  input.dialled = "12333320500";
  input.now_unix = weekday;
  long start = g_allocations.load();
  const sb::core::Decision fresh = sb::core::decide(table, input);
  CHECK(g_allocations.load() - start == 1);
  CHECK(fresh.candidates.size() == 2);
  input.dialled = "12333abc";
  start = g_allocations.load();
  const sb::core::Decision rejected = sb::core::decide(table, input);
  CHECK(g_allocations.load() - start == 0);
  CHECK(rejected.status == 484);
}
