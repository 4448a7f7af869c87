// switchboardctl tables validate | publish | show. SPEC §5: operators edit YAML files, the
// CLI validates them (every error with file:line) and publishes them as a new version.
#include <charconv>
#include <filesystem>
#include <iostream>

#include "core/routing_table.hpp"
#include "ctl/commands.hpp"
#include "ctl/common.hpp"
#include "redis/table_info.hpp"
#include "redis/table_store.hpp"

namespace sb::ctl {
namespace {

std::string counts(const core::TableSpec& spec) {
  std::string out = plural(spec.trunks.size(), "trunk", "trunks") + ", " +
                    plural(spec.routes.size(), "route", "routes") + ", " +
                    plural(spec.area_codes.size(), "area code", "area codes") + ", " +
                    plural(spec.regions.size(), "region", "regions");
  if (!spec.caller_prefixes.empty()) {
    out += ", " + plural(spec.caller_prefixes.size(), "caller prefix", "caller prefixes");
  }
  if (!spec.topics.empty()) out += ", " + plural(spec.topics.size(), "topic", "topics");
  return out;
}

int validate(const Args& args) {
  const std::optional<core::TableSpec> spec = loadValidDir(args.positional[0]);
  if (!spec) return kExitFailed;
  std::cout << "ok: " << counts(*spec) << "\n";
  return kExitOk;
}

int publish(const Args& args) {
  const std::string& dir = args.positional[0];
  const redis::RedisAddress addr = redisAddress(args);
  int keep = 5;
  if (const auto text = args.get("keep")) {
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), keep);
    if (ec != std::errc() || ptr != text->data() + text->size() || keep < 1) {
      throw UsageError("--keep must be a positive integer");
    }
  }
  const std::optional<core::TableSpec> spec = loadValidDir(dir);
  if (!spec) {
    std::cerr << "not published: fix the errors above first\n";
    return kExitFailed;
  }
  const std::string source = std::filesystem::absolute(dir).lexically_normal().string();
  const redis::PublishResult result = redis::publishTables(addr, *spec, source, keep);
  if (!result.ok) {
    std::cerr << "switchboardctl: publish failed: " << result.error << "\n";
    return kExitFailed;
  }
  std::cout << "published version " << result.version << "\n";
  return kExitOk;
}

int show(const Args& args) {
  const redis::RedisAddress addr = redisAddress(args);
  std::uint64_t version = 0;
  if (const auto text = args.get("version")) {
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), version);
    if (ec != std::errc() || ptr != text->data() + text->size() || version == 0) {
      throw UsageError("--version must be a positive integer");
    }
  }
  const redis::TableInfo info = redis::readTableInfo(addr, version);
  if (!info.ok) {
    std::cerr << "switchboardctl: " << info.error << "\n";
    return kExitFailed;
  }
  if (info.version == 0) {
    std::cerr << "no tables published under prefix '" << addr.prefix << "'\n";
    return kExitFailed;
  }
  std::cout << "version: " << info.version << (info.version == info.current ? " (current)" : "")
            << "\n";
  if (info.version != info.current) {
    std::cout << "current: " << (info.current == 0 ? "none" : std::to_string(info.current)) << "\n";
  }
  for (const auto& [field, value] : info.meta) {
    if (field == "version") continue;
    std::cout << "meta." << field << ": " << value << "\n";
  }
  std::cout << "stored:";
  for (const auto& [part, n] : info.counts) std::cout << " " << part << "=" << n;
  std::cout << "\nversions in redis:";
  for (std::uint64_t v : info.stored_versions) std::cout << " " << v;
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> tablesCommands() {
  std::vector<Command> commands;
  commands.push_back(
      Command{{"tables", "validate"},
              "DIR",
              "check a routing-table directory; print every error as file:line: message",
              "DIR holds trunks.yaml, routes.yaml, area-codes.yaml, regions.yaml and optionally\n"
              "caller-prefixes.yaml and topics.yaml. Exit status 0 when valid, 1 when not (every "
              "error printed).",
              {},
              1,
              1,
              validate});
  commands.push_back(
      Command{{"tables", "publish"},
              "DIR",
              "validate DIR and publish it to Redis as the new current version",
              "The tables are validated first; an invalid set is never published (exit 1).\n"
              "The new version is written, made current atomically and announced to every\n"
              "gateway. Old versions beyond the newest few are deleted.",
              {redisOption(true),
               prefixOption(),
               {"keep", "N", "versions to keep in Redis (default: 5)", false}},
              1,
              1,
              publish});
  commands.push_back(
      Command{{"tables", "show"},
              "",
              "show the current (or a given) version's meta data and sizes",
              "",
              {redisOption(true),
               prefixOption(),
               {"version", "N", "the version to show (default: the current one)", false}},
              0,
              0,
              show});
  return commands;
}

}  // namespace sb::ctl
