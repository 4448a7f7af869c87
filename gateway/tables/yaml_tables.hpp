// Routing tables as operators write them: a directory of YAML files -> core::TableSpec,
// every item carrying its file:line. SPEC §5. Validation of meaning is core::buildTable's.
#pragma once

#include <string>
#include <vector>

#include "core/table_spec.hpp"

namespace sb::tables {

struct LoadResult {
  core::TableSpec spec;
  std::vector<core::TableError> errors;  // syntax, unknown keys, wrong types; every one
};

// Reads DIR/trunks.yaml, DIR/routes.yaml, DIR/area-codes.yaml, DIR/regions.yaml and the
// optional DIR/caller-prefixes.yaml and DIR/topics.yaml. Unknown keys are errors (strict,
// like gateway.yaml). Optional keys (a trunk's `hours`) and files may be absent, so table
// sets written before they existed load unchanged.
LoadResult loadTableDir(const std::string& dir);

// loadTableDir + core::buildTable: all errors of both steps, for `tables validate`.
std::vector<core::TableError> validateTableDir(const std::string& dir);

}  // namespace sb::tables
