// What `switchboardctl tables show` prints: a version's meta and sizes, without decoding it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "redis/table_store.hpp"

namespace sb::redis {

struct TableInfo {
  bool ok = false;
  std::string error;
  std::uint64_t current = 0;  // the current version; 0 when none is published
  std::uint64_t version = 0;  // the version described (current unless one was asked for)
  std::vector<std::pair<std::string, std::string>> meta;  // as stored, sorted by field
  // HLEN of each hash of the version: {"trunks", 8}, {"routes", 8}, ...
  std::vector<std::pair<std::string, std::uint64_t>> counts;
  std::vector<std::uint64_t> stored_versions;  // every version with keys in Redis, ascending
};

// `version` 0: the current one. ok=false with `error` when Redis cannot be read or the
// version does not exist; ok=true, version=0 when nothing has been published.
TableInfo readTableInfo(const RedisAddress& addr, std::uint64_t version = 0);

}  // namespace sb::redis
