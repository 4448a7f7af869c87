// The routing tables as an operator wrote them, before validation: plain data with the
// file:line each item came from, so every error can name its place. SPEC §5. Pure.
// Filled from YAML files (gateway/tables) or from a published version in Redis
// (gateway/redis); turned into an immutable RoutingTable by buildTable().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::core {

struct SourceLoc {
  std::string file;  // "routing-tables/example/trunks.yaml" or "redis:sb:tables:v7:trunks"
  int line = 0;      // 1-based; 0 when unknown
};

// One line of a trunk's opening hours as written ("mon-fri 08:30-17:30", "2026-10-01",
// "2026-09-27 08:30-17:30") and where it was written.
struct HoursRuleSpec {
  std::string text;
  SourceLoc loc;
};

// Opening hours (SPEC §4) in China Standard Time. Parsed and checked by buildTable.
struct HoursSpec {
  // Weekly ranges: "DAYS HH:MM-HH:MM [HH:MM-HH:MM ...]"; nullopt: open all week (7×24), so
  // a spec with only `closed` dates is "7×24 except holidays".
  std::optional<std::vector<HoursRuleSpec>> weekly;
  std::vector<HoursRuleSpec> closed;  // "YYYY-MM-DD": closed all day (public holidays)
  std::vector<HoursRuleSpec> open;    // "YYYY-MM-DD HH:MM-HH:MM ...": replaces weekly that day
  SourceLoc loc;
};

// A trunk's own OPTIONS probe settings (SPEC §4: each trunk has its health-probe settings):
// every field optional; an unset one takes the gateway-wide value (gateway.yaml sip.probe).
// Field names as in sip.probe. Checked by buildTable; merged by core::resolveProbeConfig.
struct ProbeOverrides {
  std::optional<bool> enabled;  // false: never probed, always routable; true: probed even
                                // when sip.probe.interval_ms is 0
  std::optional<std::uint32_t> interval_ms;
  std::optional<std::uint32_t> jitter_percent;
  std::optional<std::uint32_t> timeout_ms;
  std::optional<std::uint32_t> down_after;  // consecutive misses: up -> down
  std::optional<std::uint32_t> up_after;    // consecutive answers: down -> up
  // Set and empty: any answer from the trunk is alive, whatever sip.probe lists.
  std::optional<std::vector<int>> accepted_codes;

  bool empty() const {
    return !enabled && !interval_ms && !jitter_percent && !timeout_ms && !down_after && !up_after &&
           !accepted_codes;
  }
  bool operator==(const ProbeOverrides&) const = default;
};

// A trunk's `probe:` block as written, with where it and each of its fields was written.
struct ProbeSpec {
  ProbeOverrides settings;
  SourceLoc loc;
  std::vector<std::pair<std::string, SourceLoc>> field_locs;  // "interval_ms" -> file:line

  // Where `field` was written; the block's own place when not recorded.
  const SourceLoc& locOf(std::string_view field) const {
    for (const auto& [name, where] : field_locs) {
      if (name == field) return where;
    }
    return loc;
  }
};

struct TrunkSpec {
  std::string name;                  // unique, [a-z0-9-]+, e.g. "js-suzhou"
  std::string region;                // 6-digit division code the center serves
  std::string display_name;          // Chinese display name, e.g. "苏州市12333"
  std::vector<std::string> targets;  // SIP URIs, first is used: "sip:127.0.0.1:5071;transport=udp"
  std::vector<std::string> sources;  // IP addresses the trunk may send from
  std::uint32_t capacity = 0;        // max concurrent calls, 0 = unlimited
  std::uint32_t cps = 0;             // max new calls per second, 0 = unlimited
  SourceLoc loc;
  std::optional<HoursSpec> hours;  // nullopt: open 7×24
  std::optional<ProbeSpec> probe;  // nullopt: the gateway-wide probe settings
};

struct RouteMemberSpec {
  std::string trunk;
  std::uint32_t weight = 1;  // share of load inside its group
  SourceLoc loc;
};

struct RouteSpec {
  // "320500" (division code) or "default", optionally with a topic: "320500/0202",
  // "default/02" (SPEC §3: a (region, topic) route beats the region's route at its level).
  std::string key;
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

// Topic codes (context.md): "02" first level or "0202" second level -> names.
struct TopicSpec {
  std::string code;
  std::string name_zh;
  std::string name_en;
  SourceLoc loc;
};

struct TableSpec {
  std::vector<TrunkSpec> trunks;
  std::vector<RouteSpec> routes;
  std::vector<AreaCodeSpec> area_codes;
  std::vector<RegionSpec> regions;
  std::vector<CallerPrefixSpec> caller_prefixes;
  std::vector<TopicSpec> topics;  // route keys "<division>/<topic>" must name a listed topic
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
