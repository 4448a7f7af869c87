// The routing tables as an operator wrote them, before validation: plain data with the
// file:line each item came from, so every error can name its place. SPEC §5. Pure.
// Filled from YAML files (gateway/tables) or from a published version in Redis
// (gateway/redis); turned into an immutable RoutingTable by buildTable().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::core {

struct SourceLoc {
  std::string file;  // "routing-tables/example/trunks.yaml" or "redis:sb:tables:v7:trunks"
  int line = 0;      // 1-based; 0 when unknown
};

struct TrunkSpec {
  std::string name;          // unique, [a-z0-9-]+, e.g. "js-suzhou"
  std::string region;        // 6-digit division code the center serves
  std::string display_name;  // Chinese display name, e.g. "苏州市12333"
  std::vector<std::string> targets;  // SIP URIs, first is used: "sip:127.0.0.1:5071;transport=udp"
  std::vector<std::string> sources;  // IP addresses the trunk may send from
  std::uint32_t capacity = 0;        // max concurrent calls, 0 = unlimited
  std::uint32_t cps = 0;             // max new calls per second, 0 = unlimited
  SourceLoc loc;
};

struct RouteMemberSpec {
  std::string trunk;
  std::uint32_t weight = 1;  // share of load inside its group
  SourceLoc loc;
};

struct RouteSpec {
  std::string key;  // "320500" (division code) or "default"
  std::vector<std::vector<RouteMemberSpec>> groups;  // tried in order; members share load
  SourceLoc loc;
};

struct AreaCodeSpec {
  std::string area_code;  // with leading 0: "0512"
  std::string division;   // "320500"
  SourceLoc loc;
};

struct RegionSpec {
  std::string code;  // "320000" province or "320500" city (counties optional)
  std::string name_zh;
  std::string name_en;
  SourceLoc loc;
};

// Caller home region (SPEC §3): number prefixes -> division. Mobile prefixes are 7 digits
// ("1390512"); fixed-line callers are resolved through area_codes instead.
struct CallerPrefixSpec {
  std::string prefix;
  std::string division;
  SourceLoc loc;
};

struct TableSpec {
  std::vector<TrunkSpec> trunks;
  std::vector<RouteSpec> routes;
  std::vector<AreaCodeSpec> area_codes;
  std::vector<RegionSpec> regions;
  std::vector<CallerPrefixSpec> caller_prefixes;
};

struct TableError {
  SourceLoc loc;
  std::string message;
};

// "file:line: message" (or "file: message" when the line is unknown).
std::string formatError(const TableError& error);

// Field syntax, used by buildTable (and usable by loaders and the admin API).
// [a-z0-9][a-z0-9-]*: trunk names end up in metric labels, log lines and Redis keys.
bool isTrunkName(std::string_view name);
// A trunk target: sip:/sips: URI with a host, optional user, port and params;
// transport=udp|tcp|tls; IPv6 in brackets. No password, no headers.
bool isSipTarget(std::string_view uri);
// A source address in the form it is stored and matched in (IPv4 dotted quad; IPv6 as
// RFC 5952 text; v4-mapped IPv6 as IPv4); nullopt when the text is not an IP address.
std::optional<std::string> canonicalAddress(std::string_view ip);

}  // namespace sb::core
