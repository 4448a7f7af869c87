// What a routing-table swap costs, piece by piece (issue 7, "table scale"): for a table
// directory (e.g. the one tests/load/bench_swap.py writes, national + 100,000 routes),
// the time to build the RoutingTable from its spec (the watcher thread's work) and the time
// to destroy one (done by whichever thread drops the last reference: in the daemon, the SIP
// thread when the swap replaces the table in force, or the last call still holding it),
// and the heap one built table holds (glibc mallinfo2: bytes in use). Median of --rounds
// rounds; one core.
//
//   build/tests/load/sb_bench_table routing-tables/national [--rounds 5]
#include <malloc.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/routing_table.hpp"
#include "tables/yaml_tables.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double heapInUseMb() { return static_cast<double>(mallinfo2().uordblks) / (1024.0 * 1024.0); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "routing-tables/national";
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      dir = argv[i];
    }
  }
  const auto load0 = Clock::now();
  const auto loaded = sb::tables::loadTableDir(dir);
  const double load_ms = ms(Clock::now() - load0);
  if (!loaded.errors.empty()) {
    std::fprintf(stderr, "%s\n", sb::core::formatError(loaded.errors.front()).c_str());
    return 1;
  }
  std::vector<double> build_ms;
  std::vector<double> destroy_ms;
  std::vector<double> heap_mb;
  std::size_t routes = 0;
  for (int r = 0; r < rounds; ++r) {
    const double heap0 = heapInUseMb();
    const auto t0 = Clock::now();
    sb::core::BuildResult built =
        sb::core::buildTable(loaded.spec, static_cast<std::uint64_t>(r + 1));
    const auto t1 = Clock::now();
    if (!built.table) {
      std::fprintf(stderr, "%s\n", sb::core::formatError(built.errors.front()).c_str());
      return 1;
    }
    routes = built.table->routeCount();
    heap_mb.push_back(heapInUseMb() - heap0);
    std::shared_ptr<const sb::core::RoutingTable> table = std::move(built.table);
    const auto t2 = Clock::now();
    table.reset();  // the last reference: the whole table is freed here
    const auto t3 = Clock::now();
    build_ms.push_back(ms(t1 - t0));
    destroy_ms.push_back(ms(t3 - t2));
  }
  std::printf("table %s: %zu routes, %zu caller prefixes (YAML load %.0f ms)\n", dir.c_str(),
              routes, loaded.spec.caller_prefixes.size(), load_ms);
  std::printf("build   median %8.1f ms over %d rounds\n", median(build_ms), rounds);
  std::printf("destroy median %8.1f ms (a stall of the thread that drops the last reference)\n",
              median(destroy_ms));
  std::printf("heap held by one built table: median %.1f MB\n", median(heap_mb));
  return 0;
}
