// The Redis side of a table version (key schema in table_store.hpp): key names, the JSON
// values, and reading one version back. Internal to gateway/redis.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/table_spec.hpp"
#include "redis/redis_client.hpp"

namespace sb::redis::detail {

// The hashes of one version, in the order they are written; meta comes last so that a
// version with meta is complete.
inline constexpr const char* kTrunksPart = "trunks";
inline constexpr const char* kRoutesPart = "routes";
inline constexpr const char* kAreaCodesPart = "area_codes";
inline constexpr const char* kRegionsPart = "regions";
inline constexpr const char* kCallerPrefixesPart = "caller_prefixes";
inline constexpr const char* kTopicsPart = "topics";  // absent in versions before topics
inline constexpr const char* kMetaPart = "meta";
inline constexpr const char* kVersionParts[] = {kTrunksPart,  kRoutesPart,         kAreaCodesPart,
                                                kRegionsPart, kCallerPrefixesPart, kTopicsPart,
                                                kMetaPart};

class TableKeys {
 public:
  explicit TableKeys(std::string prefix) : base_(std::move(prefix) + ":tables:") {}
  std::string seq() const { return base_ + "seq"; }
  std::string current() const { return base_ + "current"; }
  std::string announce() const { return base_ + "announce"; }
  std::string version(std::uint64_t v, std::string_view part) const {
    return base_ + "v" + std::to_string(v) + ":" + std::string(part);
  }
  // SCAN pattern for every version key, glob characters of the prefix escaped.
  std::string versionPattern() const;
  // The version number in "P:tables:v<N>:<part>", or nullopt for other keys.
  std::optional<std::uint64_t> versionOfKey(std::string_view key) const;

 private:
  std::string base_;
};

// Decimal version number as stored in `current` and announced; nullopt for anything else.
std::optional<std::uint64_t> parseVersion(std::string_view text);

// JSON values. Trunks carry their position in the operator's file ("order") so a fetched
// spec lists them as written; HASH fields have no order. A trunk's opening hours are its
// optional "hours" member, {"weekly": [...], "closed": [...], "open": [...]} holding the
// rules as written ("weekly" absent: open all week); a trunk without "hours" is open 7×24,
// which is how versions published before hours existed load. A trunk's own probe settings are
// its optional "probe" member holding only the fields the operator gave ({"interval_ms": 5000,
// "accepted_codes": [200, 404]}, {"enabled": false}); without it the trunk is probed with the
// gateway-wide sip.probe settings, which is how older versions load.
std::string encodeTrunk(const core::TrunkSpec& trunk, std::size_t order);
std::string encodeRouteGroups(const core::RouteSpec& route);
std::string encodeRegion(const core::RegionSpec& region);
std::string encodeTopic(const core::TopicSpec& topic);  // {"name_zh", "name_en"}

enum class FetchStatus : std::uint8_t {
  Ok,         // spec filled
  NoVersion,  // nothing published yet (`current` absent)
  Invalid,    // the stored version is unusable; `errors` says why
};

struct Fetched {
  FetchStatus status = FetchStatus::NoVersion;
  std::uint64_t version = 0;
  std::vector<std::pair<std::string, std::string>> meta;
  core::TableSpec spec;
  std::vector<core::TableError> errors;

  std::string metaValue(std::string_view field) const;  // "" when absent
};

// Reads version `version` (0: the current one). Redis trouble throws RedisIoError or
// RedisReplyError; bad stored data (JSON, types, missing keys, a `current` that is not a
// number) gives FetchStatus::Invalid.
Fetched fetchVersion(RedisConn& conn, const TableKeys& keys, std::uint64_t version);

}  // namespace sb::redis::detail
