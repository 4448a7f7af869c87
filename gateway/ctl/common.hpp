// Pieces shared by switchboardctl's command groups: the Redis options and loading tables
// from a directory or from Redis, with every error printed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/routing_table.hpp"
#include "core/table_spec.hpp"
#include "ctl/cli.hpp"
#include "redis/table_store.hpp"

namespace sb::ctl {

OptionSpec redisOption(bool required);
OptionSpec prefixOption();

// --redis (and --prefix) as an address; the password from SWITCHBOARD_REDIS_PASSWORD.
// Throws UsageError for a bad address.
redis::RedisAddress redisAddress(const Args& args);

std::string plural(std::size_t n, const char* one, const char* many);

// Prints "file:line: message" lines and "invalid: N errors" to stderr.
void printErrors(const std::vector<core::TableError>& errors);

// A directory's tables, read and built, with every error printed; nullopt after errors.
// Throws UsageError when `dir` is not a directory.
std::optional<core::TableSpec> loadValidDir(const std::string& dir);

// The current (or a given) published version from Redis, built; nullptr after printing why.
std::shared_ptr<const core::RoutingTable> loadFromRedis(const redis::RedisAddress& addr,
                                                        std::uint64_t version = 0);

}  // namespace sb::ctl
