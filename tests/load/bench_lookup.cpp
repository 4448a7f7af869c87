// Micro-benchmark of the routing core on the national tables (issue 4: lookups/s for random
// national keys; issue 7's target is >= 10 million/s per core). Not a test: timings belong
// in benchmarks. Prints each figure next to a reference loop (summing the same keys) run in
// the same invocation, so runs on a noisy machine can be compared by ratio.
//
//   build/tests/load/sb_bench_lookup [routing-tables/national] [--seconds 1]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/decide.hpp"
#include "core/routing_table.hpp"
#include "tables/yaml_tables.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <typename F>
double perSecond(double seconds, F&& body) {
  std::uint64_t n = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    for (int i = 0; i < 4096; ++i) body(n++);
  }
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "routing-tables/national";
  double seconds = 1.0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else {
      dir = a;
    }
  }
  auto loaded = sb::tables::loadTableDir(dir);
  if (!loaded.errors.empty()) {
    std::fprintf(stderr, "%s\n", sb::core::formatError(loaded.errors.front()).c_str());
    return 1;
  }
  auto built = sb::core::buildTable(loaded.spec, 1);
  if (!built.table) {
    std::fprintf(stderr, "%s\n", sb::core::formatError(built.errors.front()).c_str());
    return 1;
  }
  const auto& table = *built.table;

  // Keys: every listed region, and for each a made-up county code under it (most counties
  // have no route of their own, so they walk county -> city -> province).
  std::vector<sb::core::RegionCode> keys;
  for (const auto& r : loaded.spec.regions) {
    auto code = sb::core::parseRegionCode(r.code);
    if (!code) continue;
    keys.push_back(*code);
    if (sb::core::isCityCode(*code)) keys.push_back(*code + 2);
  }
  std::uint64_t seed = 42;
  std::vector<sb::core::RegionCode> order(1 << 16);
  for (auto& k : order) k = keys[splitmix(seed) % keys.size()];
  std::vector<std::string> mobiles(1 << 12);
  for (auto& m : mobiles) {
    m = "13" + std::to_string(1000000000ULL + splitmix(seed) % 8999999999ULL).substr(1, 9);
  }
  std::vector<std::string> dialled(1 << 12);
  for (auto& d : dialled) d = "12333" + std::to_string(order[splitmix(seed) % order.size()]);

  volatile std::uint64_t sink = 0;
  double reference = perSecond(seconds, [&](std::uint64_t n) { sink = sink + order[n & 0xffff]; });
  double lookups = perSecond(seconds, [&](std::uint64_t n) {
    auto r = table.lookup(order[n & 0xffff]);
    sink = sink + static_cast<std::uint64_t>(r.level);
  });
  double topic_lookups = perSecond(seconds, [&](std::uint64_t n) {
    auto r = table.lookup(order[n & 0xffff], 202);
    sink = sink + static_cast<std::uint64_t>(r.level);
  });
  double callers = perSecond(seconds, [&](std::uint64_t n) {
    auto r = table.callerRegion(mobiles[n & 0xfff]);
    sink = sink + (r ? *r : 0);
  });
  sb::core::Decision decision;
  double decisions = perSecond(seconds, [&](std::uint64_t n) {
    sb::core::DecideInput in;
    in.dialled = dialled[n & 0xfff];
    in.now_unix = 1795460400;
    in.random = n;
    sb::core::decide(table, in, decision);
    sink = sink + decision.usable;
  });

  std::printf("national table: %zu trunks, %zu routes, %zu keys sampled (single core)\n",
              table.trunks().size(), table.routeCount(), keys.size());
  std::printf("%-34s %14s %10s\n", "operation", "per second", "vs ref");
  std::printf("%-34s %14.0f %10s\n", "reference loop (sum of keys)", reference, "1.000");
  std::printf("%-34s %14.0f %10.3f\n", "lookup(region)", lookups, lookups / reference);
  std::printf("%-34s %14.0f %10.3f\n", "lookup(region, topic 0202)", topic_lookups,
              topic_lookups / reference);
  std::printf("%-34s %14.0f %10.3f\n", "callerRegion(random mobile)", callers, callers / reference);
  std::printf("%-34s %14.0f %10.3f\n", "decide(12333 + code), full", decisions,
              decisions / reference);
  return 0;
}
