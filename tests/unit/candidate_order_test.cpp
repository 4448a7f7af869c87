// Candidate order: groups in order, weighted random order inside a group. SPEC §4.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "core/routing_table.hpp"

using sb::core::candidateOrder;
using sb::core::Route;
using sb::core::RouteGroup;
using sb::core::RouteMember;
using sb::core::TrunkIndex;

namespace {

Route makeRoute(const std::vector<std::vector<RouteMember>>& groups) {
  Route route;
  for (const auto& members : groups) route.groups.push_back(RouteGroup{members});
  return route;
}

constexpr int kSeeds = 20000;

}  // namespace

TEST_CASE("candidateOrder tries groups in order and every trunk once", "[candidates]") {
  const Route route = makeRoute({{{1, 1}, {2, 1}, {3, 1}}, {{4, 5}, {5, 1}}, {{6, 1}}});
  for (std::uint64_t seed = 0; seed < 1000; ++seed) {
    CAPTURE(seed);
    const std::vector<TrunkIndex> order = candidateOrder(route, seed);
    REQUIRE(order.size() == 6);
    CHECK(std::set<TrunkIndex>(order.begin(), order.begin() + 3) == std::set<TrunkIndex>{1, 2, 3});
    CHECK(std::set<TrunkIndex>(order.begin() + 3, order.begin() + 5) == std::set<TrunkIndex>{4, 5});
    CHECK(order[5] == 6);
  }
}

TEST_CASE("candidateOrder is deterministic for a seed and varies across seeds", "[candidates]") {
  const Route route = makeRoute({{{1, 1}, {2, 1}, {3, 1}, {4, 1}}});
  std::set<std::vector<TrunkIndex>> seen;
  for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xdeadbeefULL, ~0ULL}) {
    CAPTURE(seed);
    CHECK(candidateOrder(route, seed) == candidateOrder(route, seed));
  }
  for (std::uint64_t seed = 0; seed < 500; ++seed) seen.insert(candidateOrder(route, seed));
  CHECK(seen.size() == 24);  // every permutation of four equal trunks shows up
}

TEST_CASE("candidateOrder respects weights over many seeds", "[candidates]") {
  SECTION("3:1 -> the heavy trunk first about 75 % of the time") {
    const Route route = makeRoute({{{1, 3}, {2, 1}}});
    int first_heavy = 0;
    for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
      if (candidateOrder(route, seed).front() == 1) ++first_heavy;
    }
    const double share = static_cast<double>(first_heavy) / kSeeds;
    CHECK(share > 0.73);
    CHECK(share < 0.77);
  }
  SECTION("1:1:2 -> first picks about 25/25/50 %") {
    const Route route = makeRoute({{{1, 1}, {2, 1}, {3, 2}}});
    std::map<TrunkIndex, int> first;
    for (std::uint64_t seed = 0; seed < kSeeds; ++seed) ++first[candidateOrder(route, seed)[0]];
    CHECK(first[1] / double(kSeeds) == Approx(0.25).margin(0.02));
    CHECK(first[2] / double(kSeeds) == Approx(0.25).margin(0.02));
    CHECK(first[3] / double(kSeeds) == Approx(0.50).margin(0.02));
  }
  SECTION("seeds drawn from a counter and from large values behave alike") {
    const Route route = makeRoute({{{1, 9}, {2, 1}}});
    int first_heavy = 0;
    for (std::uint64_t i = 0; i < kSeeds; ++i) {
      if (candidateOrder(route, i * 0x9e3779b97f4a7c15ULL).front() == 1) ++first_heavy;
    }
    CHECK(first_heavy / double(kSeeds) == Approx(0.90).margin(0.02));
  }
}

TEST_CASE("candidateOrder edge cases", "[candidates]") {
  CHECK(candidateOrder(Route{}, 1).empty());
  CHECK(candidateOrder(makeRoute({{}}), 1).empty());
  CHECK(candidateOrder(makeRoute({{{7, 1}}}), 1) == std::vector<TrunkIndex>{7});
  // Zero weights cannot come out of buildTable, but a hand-made route keeps its trunks.
  const Route zero = makeRoute({{{1, 0}, {2, 0}, {3, 1}}});
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    CHECK(candidateOrder(zero, seed) == std::vector<TrunkIndex>{3, 1, 2});
  }
  // Huge weights do not overflow.
  const Route huge = makeRoute({{{1, 0xffffffffU}, {2, 0xffffffffU}, {3, 0xffffffffU}}});
  CHECK(candidateOrder(huge, 99).size() == 3);
}
