#include <cstdio>
#include "core/routing_table.hpp"
#include "redis/table_store.hpp"
#include "tables/yaml_tables.hpp"
int main(int argc, char** argv) {
  if (argc < 3) return 2;
  auto errs = sb::tables::validateTableDir(argv[1]);
  for (auto& e : errs) std::fprintf(stderr, "%s\n", sb::core::formatError(e).c_str());
  if (!errs.empty()) return 1;
  auto lr = sb::tables::loadTableDir(argv[1]);
  auto r = sb::redis::publishTables(sb::redis::parseRedisAddress(argv[2]), lr.spec, argv[1]);
  if (!r.ok) {
    std::fprintf(stderr, "%s\n", r.error.c_str());
    return 1;
  }
  std::printf("published version %llu\n", (unsigned long long)r.version);
}
