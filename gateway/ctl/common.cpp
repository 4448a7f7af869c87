// Shared by switchboardctl's command groups (SPEC §5).
#include "ctl/common.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "tables/yaml_tables.hpp"

namespace sb::ctl {
namespace {

constexpr const char* kPasswordEnv = "SWITCHBOARD_REDIS_PASSWORD";

}  // namespace

OptionSpec redisOption(bool required) {
  return {"redis", "HOST:PORT", "Redis server ([IPv6]:PORT also accepted)", required};
}

OptionSpec prefixOption() { return {"prefix", "PREFIX", "key prefix (default: sb)", false}; }

redis::RedisAddress redisAddress(const Args& args) {
  redis::RedisAddress addr;
  try {
    addr = redis::parseRedisAddress(*args.get("redis"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (const auto prefix = args.get("prefix")) addr.prefix = *prefix;
  // style.md: secrets come from the environment and are never printed.
  if (const char* password = std::getenv(kPasswordEnv)) addr.password = password;
  return addr;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void printErrors(const std::vector<core::TableError>& errors) {
  for (const core::TableError& e : errors) std::cerr << core::formatError(e) << "\n";
  std::cerr << "invalid: " << plural(errors.size(), "error", "errors") << "\n";
}

std::optional<core::TableSpec> loadValidDir(const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw UsageError("'" + dir + "' is not a directory");
  tables::LoadResult loaded = tables::loadTableDir(dir);
  if (!loaded.errors.empty()) {
    // validateTableDir adds what the build can still say about the readable part.
    printErrors(tables::validateTableDir(dir));
    return std::nullopt;
  }
  const core::BuildResult built = core::buildTable(loaded.spec, 0);
  if (!built.errors.empty()) {
    printErrors(built.errors);
    return std::nullopt;
  }
  return std::move(loaded.spec);
}

std::shared_ptr<const core::RoutingTable> loadFromRedis(const redis::RedisAddress& addr,
                                                        std::uint64_t version) {
  redis::FetchResult fetched = redis::fetchTables(addr, version);
  if (!fetched.ok) {
    std::cerr << "switchboardctl: cannot read the tables from Redis: " << fetched.error << "\n";
    return nullptr;
  }
  if (fetched.version == 0) {
    std::cerr << "switchboardctl: no tables published under prefix '" << addr.prefix << "'\n";
    return nullptr;
  }
  core::BuildResult built = core::buildTable(fetched.spec, fetched.version);
  if (!built.errors.empty()) {
    std::cerr << "switchboardctl: version " << fetched.version << " in Redis does not build:\n";
    printErrors(built.errors);
    return nullptr;
  }
  return built.table;
}

}  // namespace sb::ctl
