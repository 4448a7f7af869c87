#include "redis/table_codec.hpp"

#include <algorithm>
#include <charconv>

#include "redis/json.hpp"

namespace sb::redis::detail {
namespace {

void appendJsonStrings(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    appendJsonString(out, items[i]);
  }
  out += ']';
}

// Decoding. Unknown members are ignored so an older gateway can read a version written by
// a newer publisher; missing or mistyped ones make the version invalid.
class Decoder {
 public:
  Decoder(std::string key, std::vector<core::TableError>& errors)
      : file_("redis:" + std::move(key)), errors_(errors) {}

  core::SourceLoc loc() const { return core::SourceLoc{file_, 0}; }

  void error(std::string message) {
    errors_.push_back(core::TableError{loc(), std::move(message)});
  }

  std::optional<JsonValue> parse(std::string_view field, std::string_view json) {
    std::string why;
    std::optional<JsonValue> value = parseJson(json, why);
    if (!value) error("field '" + std::string(field) + "': not valid JSON: " + why);
    return value;
  }

  bool string(const JsonValue* value, const std::string& what, std::string& out) {
    if (value == nullptr) return missing(what);
    if (!value->isString()) {
      error(what + " must be a string");
      return false;
    }
    out = value->text;
    return true;
  }

  bool uint(const JsonValue* value, const std::string& what, std::uint32_t& out) {
    if (value == nullptr) return missing(what);
    const std::optional<std::uint32_t> n = value->asUint32();
    if (!n) {
      error(what + " must be a non-negative integer below 2^32");
      return false;
    }
    out = *n;
    return true;
  }

  bool strings(const JsonValue* value, const std::string& what, std::vector<std::string>& out) {
    if (value == nullptr) return missing(what);
    if (!value->isArray()) {
      error(what + " must be an array of strings");
      return false;
    }
    for (const JsonValue& item : value->items) {
      if (!string(&item, what + " item", out.emplace_back())) return false;
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

// {"weekly": ["mon-fri 08:30-17:30"], "closed": ["2026-10-01"], "open": [...]}, each member
// optional; the rules' meaning is checked by core::buildTable.
bool decodeHours(Decoder& d, const JsonValue& value, const std::string& what,
                 core::TrunkSpec& trunk) {
  if (!value.isObject()) {
    d.error(what + " hours must be a JSON object");
    return false;
  }
  core::HoursSpec hours;
  hours.loc = d.loc();
  const auto rules = [&](const char* name, std::vector<core::HoursRuleSpec>& out) {
    std::vector<std::string> texts;
    if (!d.strings(value.find(name), what + " hours " + name, texts)) return false;
    for (std::string& text : texts) out.push_back(core::HoursRuleSpec{std::move(text), d.loc()});
    return true;
  };
  bool ok = true;
  if (value.find("weekly") != nullptr) {
    hours.weekly.emplace();
    ok = rules("weekly", *hours.weekly) && ok;
  }
  if (value.find("closed") != nullptr) ok = rules("closed", hours.closed) && ok;
  if (value.find("open") != nullptr) ok = rules("open", hours.open) && ok;
  trunk.hours = std::move(hours);
  return ok;
}

// {"enabled": false, "interval_ms": 5000, "timeout_ms": 1000, "down_after": 3, "up_after": 2,
//  "jitter_percent": 20, "accepted_codes": [200, 404]}, each member optional; the values are
// checked by core::buildTable.
bool decodeProbe(Decoder& d, const JsonValue& value, const std::string& what,
                 core::TrunkSpec& trunk) {
  if (!value.isObject()) {
    d.error(what + " probe must be a JSON object");
    return false;
  }
  core::ProbeSpec probe;
  probe.loc = d.loc();
  core::ProbeOverrides& p = probe.settings;
  bool ok = true;
  if (const JsonValue* enabled = value.find("enabled")) {
    if (enabled->type != JsonValue::Type::Bool) {
      d.error(what + " probe enabled must be true or false");
      ok = false;
    } else {
      p.enabled = enabled->boolean;
    }
  }
  const auto number = [&](const char* name, std::optional<std::uint32_t>& out) {
    const JsonValue* n = value.find(name);
    if (n == nullptr) return;
    std::uint32_t v = 0;
    if (d.uint(n, what + " probe " + name, v)) {
      out = v;
    } else {
      ok = false;
    }
  };
  number("interval_ms", p.interval_ms);
  number("jitter_percent", p.jitter_percent);
  number("timeout_ms", p.timeout_ms);
  number("down_after", p.down_after);
  number("up_after", p.up_after);
  if (const JsonValue* codes = value.find("accepted_codes")) {
    if (!codes->isArray()) {
      d.error(what + " probe accepted_codes must be an array of status codes");
      ok = false;
    } else {
      std::vector<int> list;
      for (const JsonValue& item : codes->items) {
        std::uint32_t code = 0;
        if (!d.uint(&item, what + " probe accepted_codes item", code)) {
          ok = false;
          break;
        }
        list.push_back(static_cast<int>(std::min<std::uint32_t>(code, 1'000'000)));
      }
      if (ok) p.accepted_codes = std::move(list);
    }
  }
  trunk.probe = std::move(probe);
  return ok;
}

// {"order": 0, "region": "320500", "display_name": "...", "targets": [...], "sources": [...],
//  "capacity": 100, "cps": 20, "hours": {...}, "probe": {...}}
bool decodeTrunk(Decoder& d, const std::string& name, const std::string& json,
                 core::TrunkSpec& trunk, std::uint32_t& order) {
  const auto value = d.parse(name, json);
  if (!value) return false;
  const std::string what = "trunk '" + name + "'";
  if (!value->isObject()) {
    d.error(what + " must be a JSON object");
    return false;
  }
  trunk.name = name;
  trunk.loc = d.loc();
  bool ok = d.string(value->find("region"), what + " region", trunk.region);
  ok = d.string(value->find("display_name"), what + " display_name", trunk.display_name) && ok;
  ok = d.strings(value->find("targets"), what + " targets", trunk.targets) && ok;
  ok = d.strings(value->find("sources"), what + " sources", trunk.sources) && ok;
  ok = d.uint(value->find("capacity"), what + " capacity", trunk.capacity) && ok;
  ok = d.uint(value->find("cps"), what + " cps", trunk.cps) && ok;
  order = 0;
  if (const JsonValue* o = value->find("order")) ok = d.uint(o, what + " order", order) && ok;
  // Optional (versions published before opening hours have none: open 7×24).
  if (const JsonValue* hours = value->find("hours")) ok = decodeHours(d, *hours, what, trunk) && ok;
  // Optional (versions published before per-trunk probe settings: the gateway-wide ones).
  if (const JsonValue* probe = value->find("probe")) ok = decodeProbe(d, *probe, what, trunk) && ok;
  return ok;
}

// [[{"trunk": "js-suzhou", "weight": 1}], [{"trunk": "js-province", "weight": 1}]]
bool decodeRoute(Decoder& d, const std::string& key, const std::string& json,
                 core::RouteSpec& route) {
  const auto value = d.parse(key, json);
  if (!value) return false;
  const std::string what = "route '" + key + "'";
  if (!value->isArray()) {
    d.error(what + " must be a JSON array of groups");
    return false;
  }
  route.key = key;
  route.loc = d.loc();
  for (const JsonValue& group_value : value->items) {
    if (!group_value.isArray()) {
      d.error(what + ": each group must be an array of members");
      return false;
    }
    std::vector<core::RouteMemberSpec> group;
    for (const JsonValue& member_value : group_value.items) {
      core::RouteMemberSpec member;
      member.loc = d.loc();
      if (!member_value.isObject()) {
        d.error(what + ": each member must be an object {\"trunk\", \"weight\"}");
        return false;
      }
      if (!d.string(member_value.find("trunk"), what + " trunk", member.trunk)) return false;
      if (const JsonValue* w = member_value.find("weight");
          w != nullptr && !d.uint(w, what + " weight", member.weight)) {
        return false;
      }
      group.push_back(std::move(member));
    }
    route.groups.push_back(std::move(group));
  }
  return true;
}

// Regions and topics: {"name_zh": "...", "name_en": "..."}.
template <typename Item>
bool decodeNames(Decoder& d, const std::string& kind, const std::string& code,
                 const std::string& json, Item& item) {
  const auto value = d.parse(code, json);
  if (!value) return false;
  const std::string what = kind + " " + code;
  if (!value->isObject()) {
    d.error(what + " must be a JSON object");
    return false;
  }
  item.code = code;
  item.loc = d.loc();
  bool ok = d.string(value->find("name_zh"), what + " name_zh", item.name_zh);
  if (const JsonValue* en = value->find("name_en")) {
    ok = d.string(en, what + " name_en", item.name_en) && ok;
  }
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
  out += ", \"cps\": " + std::to_string(trunk.cps);
  if (trunk.hours) {
    const auto rules = [&out](const char* name, const std::vector<core::HoursRuleSpec>& items,
                              bool first) {
      out += first ? "" : ", ";
      out += "\"";
      out += name;
      out += "\": [";
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        appendJsonString(out, items[i].text);
      }
      out += ']';
    };
    out += ", \"hours\": {";
    if (trunk.hours->weekly) rules("weekly", *trunk.hours->weekly, true);
    rules("closed", trunk.hours->closed, !trunk.hours->weekly);
    rules("open", trunk.hours->open, false);
    out += '}';
  }
  if (trunk.probe) {
    // Only the fields the operator gave: the rest stay the gateway-wide sip.probe values.
    const core::ProbeOverrides& p = trunk.probe->settings;
    std::string members;
    const auto member = [&members](const char* name, const std::string& value) {
      members += members.empty() ? "\"" : ", \"";
      members += name;
      members += "\": " + value;
    };
    if (p.enabled) member("enabled", *p.enabled ? "true" : "false");
    if (p.interval_ms) member("interval_ms", std::to_string(*p.interval_ms));
    if (p.jitter_percent) member("jitter_percent", std::to_string(*p.jitter_percent));
    if (p.timeout_ms) member("timeout_ms", std::to_string(*p.timeout_ms));
    if (p.down_after) member("down_after", std::to_string(*p.down_after));
    if (p.up_after) member("up_after", std::to_string(*p.up_after));
    if (p.accepted_codes) {
      std::string codes = "[";
      for (std::size_t i = 0; i < p.accepted_codes->size(); ++i) {
        if (i > 0) codes += ", ";
        codes += std::to_string((*p.accepted_codes)[i]);
      }
      member("accepted_codes", codes + "]");
    }
    out += ", \"probe\": {" + members + "}";
  }
  return out + "}";
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

std::string encodeTopic(const core::TopicSpec& topic) {
  std::string out = "{\"name_zh\": ";
  appendJsonString(out, topic.name_zh);
  out += ", \"name_en\": ";
  appendJsonString(out, topic.name_en);
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
      if (decodeNames(d, "region", code, json, region))
        out.spec.regions.push_back(std::move(region));
    }
  }
  if (const std::string key = keys.version(version, kCallerPrefixesPart);
      const auto pairs = readHash(conn, key, errors)) {
    for (const auto& [prefix, division] : *pairs) {
      out.spec.caller_prefixes.push_back(
          core::CallerPrefixSpec{prefix, division, core::SourceLoc{"redis:" + key, 0}});
    }
  }
  // Versions published before topics existed have no such hash: no topics.
  if (const std::string key = keys.version(version, kTopicsPart);
      const auto pairs = readHash(conn, key, errors)) {
    Decoder d(key, errors);
    for (const auto& [code, json] : *pairs) {
      core::TopicSpec topic;
      if (decodeNames(d, "topic", code, json, topic)) out.spec.topics.push_back(std::move(topic));
    }
  }
  if (errors.empty()) out.status = FetchStatus::Ok;
  return out;
}

}  // namespace sb::redis::detail
