// The call path reads the snapshot without allocating (style.md: the call path never waits;
// a malloc under load is a lock and a page fault away from waiting). Counted by replacing
// the global operator new for this test binary.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

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

namespace {

// decideSpec() plus 100,000 (county, topic) routes in Henan (listed as a province only, so
// every county code under it is a known region) and 100,000 mobile prefixes: the shape of
// a national table at 100,000 routes (issue 7, "table scale").
sb::core::TableSpec largeSpec() {
  sb::core::TableSpec spec = sb::test::decideSpec();
  for (int t = 10; t <= 29; ++t) {
    spec.topics.push_back({std::to_string(t), "主题", "topic", sb::test::at("topics.yaml", t)});
  }
  int line = 100;
  for (int t = 10; t <= 29; ++t) {
    for (int city = 1; city <= 99; ++city) {
      for (int county = 1; county <= 99 && spec.routes.size() < 100008; ++county) {
        char key[32];
        std::snprintf(key, sizeof key, "41%02d%02d/%d", city, county, t);
        spec.routes.push_back(
            {key,
             {{sb::test::member("ha-province", 1, line)}, {sb::test::member("national", 1, line)}},
             sb::test::at(sb::test::kRoutes, line)});
        ++line;
      }
    }
  }
  for (int i = 0; i < 100000; ++i) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "15%05d", i);
    spec.caller_prefixes.push_back({prefix, "410000", sb::test::at(sb::test::kCallers, i + 10)});
  }
  return spec;
}

}  // namespace

TEST_CASE("the routing decision allocates nothing more on a 100,000-route table",
          "[decide][alloc][scale]") {
  const sb::core::BuildResult small = sb::core::buildTable(sb::test::decideSpec(), 1);
  const sb::core::BuildResult large = sb::core::buildTable(largeSpec(), 2);
  REQUIRE(small.table);
  REQUIRE(large.table);
  REQUIRE(large.table->routeCount() >= small.table->routeCount() + 100000);
  const std::int64_t weekday = *sb::core::parseTimeText("2026-09-28T10:00");
  struct Call {
    const char* dialled;
    const char* caller;
    const char* topic;
    std::size_t large_candidates;  // on the large table
  };
  // The small table's calls, and calls that the large table routes by its added (county,
  // topic) routes (ha-province, then national) and mobile prefixes.
  const Call calls[] = {
      {"12333", "+8613007501234", "", 1}, {"12333320500", "", "0202", 3},
      {"123330571", "", "", 3},           {"12333410102", "", "10", 2},
      {"12333419999", "", "19", 2},       {"12333", "15012345678", "15", 1},
  };
  // Per call, for each table: allocations of decide() with a reused Decision (none), and
  // without one (the candidate vector only). Table size must change neither.
  for (const Call& call : calls) {
    long reused[2] = {0, 0};
    long fresh[2] = {0, 0};
    std::size_t candidates[2] = {0, 0};
    const sb::core::RoutingTable* tables[2] = {small.table.get(), large.table.get()};
    for (int k = 0; k < 2; ++k) {
      sb::core::DecideInput input;
      input.dialled = call.dialled;
      input.caller = call.caller;
      input.topic = call.topic;
      input.now_unix = weekday;
      sb::core::Decision decision;
      decision.candidates.reserve(8);
      const long before = g_allocations.load();
      for (int i = 0; i < 100; ++i) {
        input.random = static_cast<std::uint64_t>(i);
        sb::core::decide(*tables[k], input, decision);
      }
      reused[k] = g_allocations.load() - before;
      candidates[k] = decision.candidates.size();
      const long start = g_allocations.load();
      const sb::core::Decision once = sb::core::decide(*tables[k], input);
      fresh[k] = g_allocations.load() - start;
      CHECK(once.candidates.size() == candidates[k]);
    }
    INFO("dialled " << call.dialled << " topic '" << call.topic << "' caller " << call.caller);
    CHECK(reused[0] == 0);
    CHECK(reused[1] == 0);
    CHECK(fresh[1] == fresh[0]);
    CHECK(fresh[1] <= 1);
    CHECK(candidates[1] == call.large_candidates);
  }
}
