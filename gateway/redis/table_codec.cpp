#include "redis/table_codec.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>

namespace sb::redis::detail {
namespace {

// JSON string with the escapes RFC 8259 §7 requires; UTF-8 passes through unchanged.
void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void appendJsonStrings(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    appendJsonString(out, items[i]);
  }
  out += ']';
}

// Decoding: the values are JSON, which yaml-cpp reads as YAML flow nodes. Unknown members
// are ignored so an older gateway can read a version written by a newer publisher.
class Decoder {
 public:
  Decoder(std::string key, std::vector<core::TableError>& errors)
      : file_("redis:" + std::move(key)), errors_(errors) {}

  const std::string& file() const { return file_; }
  core::SourceLoc loc() const { return core::SourceLoc{file_, 0}; }

  void error(std::string message) {
    errors_.push_back(core::TableError{loc(), std::move(message)});
  }

  std::optional<YAML::Node> parse(std::string_view field, const std::string& json) {
    try {
      return YAML::Load(json);
    } catch (const YAML::Exception& e) {
      error("field '" + std::string(field) + "': not valid JSON: " + e.msg);
      return std::nullopt;
    }
  }

  // Members are looked up with the const operator[], which yields an undefined node for
  // a missing member (touching it would throw), hence the IsDefined() checks.
  bool string(const YAML::Node& node, const std::string& what, std::string& out) {
    if (!node.IsDefined()) return missing(what);
    if (!node.IsScalar()) {
      error(what + " must be a string");
      return false;
    }
    out = node.Scalar();
    return true;
  }

  bool uint(const YAML::Node& node, const std::string& what, std::uint32_t& out) {
    if (!node.IsDefined()) return missing(what);
    const std::string text = node.IsScalar() ? node.Scalar() : std::string();
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    if (text.empty() || node.Tag() != "?" || ec != std::errc() || ptr != end) {
      error(what + " must be a non-negative integer");
      return false;
    }
    return true;
  }

  bool strings(const YAML::Node& node, const std::string& what, std::vector<std::string>& out) {
    if (!node.IsDefined()) return missing(what);
    if (!node.IsSequence()) {
      error(what + " must be an array of strings");
      return false;
    }
    for (const YAML::Node& item : node) {
      std::string text;
      if (!string(item, what + " item", text)) return false;
      out.push_back(std::move(text));
    }
    return true;
  }

 private:
  bool missing(const std::string& what) {
    error(what + " is missing");
    return false;
  }

  std::string file_;
  std::vector<core::TableError>& errors_;
};

// {"order": 0, "region": "320500", "display_name": "...", "targets": [...], "sources": [...],
//  "capacity": 100, "cps": 20}
bool decodeTrunk(Decoder& d, const std::string& name, const std::string& json,
                 core::TrunkSpec& trunk, std::uint32_t& order) {
  const auto node = d.parse(name, json);
  if (!node) return false;
  const std::string what = "trunk '" + name + "'";
  if (!node->IsMap()) {
    d.error(what + " must be a JSON object");
    return false;
  }
  trunk.name = name;
  trunk.loc = d.loc();
  const YAML::Node& n = *node;
  bool ok = d.string(n["region"], what + " region", trunk.region);
  ok = d.string(n["display_name"], what + " display_name", trunk.display_name) && ok;
  ok = d.strings(n["targets"], what + " targets", trunk.targets) && ok;
  ok = d.strings(n["sources"], what + " sources", trunk.sources) && ok;
  ok = d.uint(n["capacity"], what + " capacity", trunk.capacity) && ok;
  ok = d.uint(n["cps"], what + " cps", trunk.cps) && ok;
  order = 0;
  if (n["order"]) ok = d.uint(n["order"], what + " order", order) && ok;
  return ok;
}

// [[{"trunk": "js-suzhou", "weight": 1}], [{"trunk": "js-province", "weight": 1}]]
bool decodeRoute(Decoder& d, const std::string& key, const std::string& json,
                 core::RouteSpec& route) {
  const auto node = d.parse(key, json);
  if (!node) return false;
  const std::string what = "route '" + key + "'";
  if (!node->IsSequence()) {
    d.error(what + " must be a JSON array of groups");
    return false;
  }
  route.key = key;
  route.loc = d.loc();
  for (const YAML::Node& group_node : *node) {
    if (!group_node.IsSequence()) {
      d.error(what + ": each group must be an array of members");
      return false;
    }
    std::vector<core::RouteMemberSpec> group;
    for (const YAML::Node& member_node : group_node) {
      core::RouteMemberSpec member;
      member.loc = d.loc();
      if (!member_node.IsMap() || !d.string(member_node["trunk"], what + " trunk", member.trunk)) {
        d.error(what + ": each member must be an object {\"trunk\", \"weight\"}");
        return false;
      }
      if (member_node["weight"] &&
          !d.uint(member_node["weight"], what + " weight", member.weight)) {
        return false;
      }
      group.push_back(std::move(member));
    }
    route.groups.push_back(std::move(group));
  }
  return true;
}

bool decodeRegion(Decoder& d, const std::string& code, const std::string& json,
                  core::RegionSpec& region) {
  const auto node = d.parse(code, json);
  if (!node) return false;
  const std::string what = "region " + code;
  if (!node->IsMap()) {
    d.error(what + " must be a JSON object");
    return false;
  }
  region.code = code;
  region.loc = d.loc();
  bool ok = d.string((*node)["name_zh"], what + " name_zh", region.name_zh);
  if ((*node)["name_en"])
    ok = d.string((*node)["name_en"], what + " name_en", region.name_en) && ok;
  return ok;
}

// HGETALL; a key of the wrong type is bad data (someone wrote it by hand), not Redis trouble.
std::optional<std::vector<std::pair<std::string, std::string>>> readHash(
    RedisConn& conn, const std::string& key, std::vector<core::TableError>& errors) {
  try {
    auto pairs = asPairs(*conn.command({"HGETALL", key}));
    std::sort(pairs.begin(), pairs.end());
    return pairs;
  } catch (const RedisReplyError& e) {
    if (!e.wrongType()) throw;
    errors.push_back(core::TableError{core::SourceLoc{"redis:" + key, 0}, "not a hash"});
    return std::nullopt;
  }
}

}  // namespace

std::string TableKeys::versionPattern() const {
  std::string pattern;
  for (char c : base_) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
    pattern += c;
  }
  return pattern + "v*";
}

std::optional<std::uint64_t> TableKeys::versionOfKey(std::string_view key) const {
  if (!key.starts_with(base_)) return std::nullopt;
  key.remove_prefix(base_.size());
  if (!key.starts_with('v')) return std::nullopt;
  key.remove_prefix(1);
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return parseVersion(key.substr(0, colon));
}

std::optional<std::uint64_t> parseVersion(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0) return std::nullopt;
  return value;
}

std::string encodeTrunk(const core::TrunkSpec& trunk, std::size_t order) {
  std::string out = "{\"order\": " + std::to_string(order) + ", \"region\": ";
  appendJsonString(out, trunk.region);
  out += ", \"display_name\": ";
  appendJsonString(out, trunk.display_name);
  out += ", \"targets\": ";
  appendJsonStrings(out, trunk.targets);
  out += ", \"sources\": ";
  appendJsonStrings(out, trunk.sources);
  out += ", \"capacity\": " + std::to_string(trunk.capacity);
  out += ", \"cps\": " + std::to_string(trunk.cps) + "}";
  return out;
}

std::string encodeRouteGroups(const core::RouteSpec& route) {
  std::string out = "[";
  for (std::size_t g = 0; g < route.groups.size(); ++g) {
    if (g > 0) out += ", ";
    out += '[';
    for (std::size_t m = 0; m < route.groups[g].size(); ++m) {
      if (m > 0) out += ", ";
      out += "{\"trunk\": ";
      appendJsonString(out, route.groups[g][m].trunk);
      out += ", \"weight\": " + std::to_string(route.groups[g][m].weight) + "}";
    }
    out += ']';
  }
  return out + "]";
}

std::string encodeRegion(const core::RegionSpec& region) {
  std::string out = "{\"name_zh\": ";
  appendJsonString(out, region.name_zh);
  out += ", \"name_en\": ";
  appendJsonString(out, region.name_en);
  return out + "}";
}

std::string Fetched::metaValue(std::string_view field) const {
  for (const auto& [key, value] : meta) {
    if (key == field) return value;
  }
  return "";
}

Fetched fetchVersion(RedisConn& conn, const TableKeys& keys, std::uint64_t version) {
  Fetched out;
  if (version == 0) {
    const std::optional<std::string> current =
        asOptionalString(*conn.command({"GET", keys.current()}));
    if (!current) return out;  // NoVersion
    const std::optional<std::uint64_t> parsed = parseVersion(*current);
    if (!parsed) {
      out.status = FetchStatus::Invalid;
      out.errors.push_back(core::TableError{core::SourceLoc{"redis:" + keys.current(), 0},
                                            "not a version number: '" + *current + "'"});
      return out;
    }
    version = *parsed;
  }
  out.version = version;
  out.status = FetchStatus::Invalid;

  const std::string meta_key = keys.version(version, kMetaPart);
  const auto meta = readHash(conn, meta_key, out.errors);
  if (!meta) return out;
  if (meta->empty()) {
    // Meta is written last: without it the version was never completed or was deleted.
    out.errors.push_back(
        core::TableError{core::SourceLoc{"redis:" + meta_key, 0},
                         "version " + std::to_string(version) + " does not exist (no meta)"});
    return out;
  }
  out.meta = *meta;

  std::vector<core::TableError>& errors = out.errors;
  if (const std::string key = keys.version(version, kTrunksPart);
      const auto pairs = readHash(conn, key, errors)) {
    Decoder d(key, errors);
    std::vector<std::pair<std::uint32_t, core::TrunkSpec>> ordered;
    for (const auto& [name, json] : *pairs) {
      core::TrunkSpec trunk;
      std::uint32_t order = 0;
      if (decodeTrunk(d, name, json, trunk, order)) ordered.emplace_back(order, std::move(trunk));
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& entry : ordered) out.spec.trunks.push_back(std::move(entry.second));
  }
  if (const std::string key = keys.version(version, kRoutesPart);
      const auto pairs = readHash(conn, key, errors)) {
    Decoder d(key, errors);
    for (const auto& [route_key, json] : *pairs) {
      core::RouteSpec route;
      if (decodeRoute(d, route_key, json, route)) out.spec.routes.push_back(std::move(route));
    }
  }
  if (const std::string key = keys.version(version, kAreaCodesPart);
      const auto pairs = readHash(conn, key, errors)) {
    for (const auto& [area_code, division] : *pairs) {
      out.spec.area_codes.push_back(
          core::AreaCodeSpec{area_code, division, core::SourceLoc{"redis:" + key, 0}});
    }
  }
  if (const std::string key = keys.version(version, kRegionsPart);
      const auto pairs = readHash(conn, key, errors)) {
    Decoder d(key, errors);
    for (const auto& [code, json] : *pairs) {
      core::RegionSpec region;
      if (decodeRegion(d, code, json, region)) out.spec.regions.push_back(std::move(region));
    }
  }
  if (const std::string key = keys.version(version, kCallerPrefixesPart);
      const auto pairs = readHash(conn, key, errors)) {
    for (const auto& [prefix, division] : *pairs) {
      out.spec.caller_prefixes.push_back(
          core::CallerPrefixSpec{prefix, division, core::SourceLoc{"redis:" + key, 0}});
    }
  }
  if (errors.empty()) out.status = FetchStatus::Ok;
  return out;
}

}  // namespace sb::redis::detail
