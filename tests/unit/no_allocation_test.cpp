// The call path reads the snapshot without allocating (style.md: the call path never waits;
// a malloc under load is a lock and a page fault away from waiting). Counted by replacing
// the global operator new for this test binary.
#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include "core/dialled.hpp"
#include "core/routing_table.hpp"
#include "sample_tables.hpp"

namespace {

std::atomic<long> g_allocations{0};

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
