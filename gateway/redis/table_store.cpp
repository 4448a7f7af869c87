// Publishing and reading routing-table versions (SPEC §5; key schema in table_store.hpp).
#include "redis/table_store.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "redis/redis_client.hpp"
#include "redis/table_codec.hpp"
#include "redis/table_info.hpp"

namespace sb::redis {
namespace {

using detail::RedisConn;
using detail::Reply;
using detail::TableKeys;

constexpr std::chrono::milliseconds kConnectTimeout{2000};
constexpr std::chrono::milliseconds kCommandTimeout{10000};
// Fields per HSET: big enough that 100,000 routes take ~100 round trips (pipelined), small
// enough that no single command holds Redis for long.
constexpr std::size_t kFieldsPerHset = 1000;
constexpr int kSwitchAttempts = 10;

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string publisherName() {
  std::string user;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    user = pw->pw_name;
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return (user.empty() ? "unknown" : user) + "@" + (host[0] != '\0' ? host : "unknown");
}

// Tells two publications apart even when Redis lost its data and numbers repeat.
std::string newPublicationId() {
  std::random_device rd;
  const std::uint64_t id = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

// Queues HSETs of up to kFieldsPerHset fields; returns the number of commands queued.
std::size_t appendHset(RedisConn& conn, const std::string& key, const Pairs& pairs) {
  std::size_t commands = 0;
  for (std::size_t begin = 0; begin < pairs.size(); begin += kFieldsPerHset) {
    const std::size_t end = std::min(pairs.size(), begin + kFieldsPerHset);
    std::vector<std::string> args;
    args.reserve(2 + 2 * (end - begin));
    args.push_back("HSET");
    args.push_back(key);
    for (std::size_t i = begin; i < end; ++i) {
      args.push_back(pairs[i].first);
      args.push_back(pairs[i].second);
    }
    conn.append(args);
    ++commands;
  }
  return commands;
}

// Reads `count` pipelined replies; every one is read even after an error reply, so the
// connection stays in step, then the first error is thrown.
void drainReplies(RedisConn& conn, std::size_t count) {
  std::optional<std::string> first_error;
  for (std::size_t i = 0; i < count; ++i) {
    try {
      conn.readReply();
    } catch (const detail::RedisReplyError& e) {
      if (!first_error) first_error = e.what();
    }
  }
  if (first_error) throw detail::RedisReplyError(*first_error);
}

std::uint64_t toVersion(std::int64_t value) {
  if (value <= 0) throw detail::RedisReplyError("version counter is not positive");
  return static_cast<std::uint64_t>(value);
}

// Every version that has keys, with those keys.
std::map<std::uint64_t, std::vector<std::string>> scanVersions(RedisConn& conn,
                                                               const TableKeys& keys) {
  std::map<std::uint64_t, std::vector<std::string>> versions;
  std::string cursor = "0";
  do {
    const Reply reply =
        conn.command({"SCAN", cursor, "MATCH", keys.versionPattern(), "COUNT", "1000"});
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      throw detail::RedisReplyError("unexpected SCAN reply");
    }
    cursor = detail::asOptionalString(*reply->element[0]).value_or("0");
    const redisReply& batch = *reply->element[1];
    for (std::size_t i = 0; i < batch.elements; ++i) {
      const std::string key(batch.element[i]->str, batch.element[i]->len);
      if (const auto v = keys.versionOfKey(key)) versions[*v].push_back(key);
    }
  } while (cursor != "0");
  return versions;
}

// Deletes versions beyond the newest `keep`, never the current one.
void pruneVersions(RedisConn& conn, const TableKeys& keys, int keep) {
  const std::optional<std::string> current_text =
      detail::asOptionalString(*conn.command({"GET", keys.current()}));
  const std::uint64_t current = current_text ? detail::parseVersion(*current_text).value_or(0) : 0;
  auto versions = scanVersions(conn, keys);
  std::size_t kept = 0;
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (kept < static_cast<std::size_t>(std::max(keep, 1)) || it->first == current) {
      ++kept;
      continue;
    }
    std::vector<std::string> args{"DEL"};
    args.insert(args.end(), it->second.begin(), it->second.end());
    conn.command(args);
  }
}

}  // namespace

RedisAddress parseRedisAddress(const std::string& text) {
  RedisAddress addr;
  std::string port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string::npos) {
      throw std::invalid_argument("bad Redis address '" + text + "': missing ']'");
    }
    addr.host = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        throw std::invalid_argument("bad Redis address '" + text + "': expected :port after ]");
      }
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = text.find(':');
    if (colon != std::string::npos && text.find(':', colon + 1) != std::string::npos) {
      throw std::invalid_argument("bad Redis address '" + text +
                                  "': write IPv6 addresses as [address]:port");
    }
    addr.host = text.substr(0, colon);
    if (colon != std::string::npos) port_text = text.substr(colon + 1);
    if (colon != std::string::npos && port_text.empty()) {
      throw std::invalid_argument("bad Redis address '" + text + "': empty port");
    }
  }
  if (addr.host.empty()) {
    throw std::invalid_argument("bad Redis address '" + text + "': empty host");
  }
  if (!port_text.empty()) {
    int port = 0;
    const char* end = port_text.data() + port_text.size();
    const auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (ec != std::errc() || ptr != end || port < 1 || port > 65535) {
      throw std::invalid_argument("bad Redis address '" + text + "': port must be 1..65535");
    }
    addr.port = port;
  }
  return addr;
}

PublishResult publishTables(const RedisAddress& addr, const core::TableSpec& spec,
                            const std::string& source, int keep_versions) {
  PublishResult result;
  try {
    RedisConn conn(addr, kConnectTimeout, kCommandTimeout);
    const TableKeys keys(addr.prefix);

    // A fresh number. If `seq` was lost or reset while `current` survived, jump past
    // current so a version number is never reused.
    std::uint64_t version = toVersion(detail::asInteger(*conn.command({"INCR", keys.seq()})));
    if (const auto cur = detail::asOptionalString(*conn.command({"GET", keys.current()}))) {
      if (const auto current = detail::parseVersion(*cur); current && *current >= version) {
        version = toVersion(detail::asInteger(
            *conn.command({"INCRBY", keys.seq(), std::to_string(*current + 1 - version)})));
      }
    }

    // Stale keys under this number (left by a reset counter) must not mix in.
    std::vector<std::string> del{"DEL"};
    for (const char* part : detail::kVersionParts) del.push_back(keys.version(version, part));
    conn.command(del);

    Pairs trunks;
    trunks.reserve(spec.trunks.size());
    for (std::size_t i = 0; i < spec.trunks.size(); ++i) {
      trunks.emplace_back(spec.trunks[i].name, detail::encodeTrunk(spec.trunks[i], i));
    }
    Pairs routes;
    routes.reserve(spec.routes.size());
    for (const core::RouteSpec& route : spec.routes) {
      routes.emplace_back(route.key, detail::encodeRouteGroups(route));
    }
    Pairs area_codes;
    for (const core::AreaCodeSpec& a : spec.area_codes)
      area_codes.emplace_back(a.area_code, a.division);
    Pairs regions;
    for (const core::RegionSpec& r : spec.regions)
      regions.emplace_back(r.code, detail::encodeRegion(r));
    Pairs prefixes;
    for (const core::CallerPrefixSpec& p : spec.caller_prefixes)
      prefixes.emplace_back(p.prefix, p.division);
    Pairs topics;
    for (const core::TopicSpec& t : spec.topics)
      topics.emplace_back(t.code, detail::encodeTopic(t));

    const std::string publication = newPublicationId();
    const Pairs meta{
        {"version", std::to_string(version)},
        {"published_at", utcNow()},
        {"source", source},
        {"publisher", publisherName()},
        {"publication", publication},
        {"format", "1"},
        {"trunks", std::to_string(trunks.size())},
        {"routes", std::to_string(routes.size())},
        {"area_codes", std::to_string(area_codes.size())},
        {"regions", std::to_string(regions.size())},
        {"caller_prefixes", std::to_string(prefixes.size())},
        {"topics", std::to_string(topics.size())},
    };

    std::size_t queued = 0;
    queued += appendHset(conn, keys.version(version, detail::kTrunksPart), trunks);
    queued += appendHset(conn, keys.version(version, detail::kRoutesPart), routes);
    queued += appendHset(conn, keys.version(version, detail::kAreaCodesPart), area_codes);
    queued += appendHset(conn, keys.version(version, detail::kRegionsPart), regions);
    queued += appendHset(conn, keys.version(version, detail::kCallerPrefixesPart), prefixes);
    queued += appendHset(conn, keys.version(version, detail::kTopicsPart), topics);
    drainReplies(conn, queued);
    // Meta last: a version with meta is complete.
    drainReplies(conn, appendHset(conn, keys.version(version, detail::kMetaPart), meta));

    // SPEC §5: switch `current` atomically. WATCH keeps a slower concurrent publisher from
    // moving current back to an older version than one switched meanwhile.
    bool switched = false;
    for (int attempt = 0; attempt < kSwitchAttempts && !switched; ++attempt) {
      conn.command({"WATCH", keys.current()});
      const auto cur = detail::asOptionalString(*conn.command({"GET", keys.current()}));
      if (const auto current = cur ? detail::parseVersion(*cur) : std::nullopt;
          current && *current > version) {
        conn.command({"UNWATCH"});
        result.version = version;
        result.error = "version " + std::to_string(*current) +
                       " was published meanwhile; version " + std::to_string(version) +
                       " was written but not made current";
        return result;
      }
      conn.command({"MULTI"});
      conn.command({"SET", keys.current(), std::to_string(version)});
      const Reply exec = conn.command({"EXEC"});
      switched = exec->type == REDIS_REPLY_ARRAY;  // nil: `current` changed under WATCH
    }
    if (!switched) {
      result.version = version;
      result.error = "could not switch current to version " + std::to_string(version) +
                     ": it kept changing under concurrent publishers";
      return result;
    }
    conn.command({"PUBLISH", keys.announce(), std::to_string(version)});
    result.ok = true;
    result.version = version;
    // The new version is live; failing to tidy up old ones is not a failed publish.
    try {
      pruneVersions(conn, keys, keep_versions);
    } catch (const std::exception&) {
    }
  } catch (const std::exception& e) {
    result.ok = false;
    result.error = e.what();
  }
  return result;
}

FetchResult fetchTables(const RedisAddress& addr, std::uint64_t version) {
  FetchResult result;
  try {
    RedisConn conn(addr, kConnectTimeout, kCommandTimeout);
    detail::Fetched fetched = detail::fetchVersion(conn, TableKeys(addr.prefix), version);
    result.version = fetched.version;
    switch (fetched.status) {
      case detail::FetchStatus::Ok:
        result.ok = true;
        result.spec = std::move(fetched.spec);
        break;
      case detail::FetchStatus::NoVersion:
        result.ok = true;
        break;
      case detail::FetchStatus::Invalid:
        for (const core::TableError& e : fetched.errors) {
          if (!result.error.empty()) result.error += "\n";
          result.error += core::formatError(e);
        }
        break;
    }
  } catch (const std::exception& e) {
    result.ok = false;
    result.error = e.what();
  }
  return result;
}

TableInfo readTableInfo(const RedisAddress& addr, std::uint64_t version) {
  TableInfo info;
  try {
    RedisConn conn(addr, kConnectTimeout, kCommandTimeout);
    const TableKeys keys(addr.prefix);
    if (const auto cur = detail::asOptionalString(*conn.command({"GET", keys.current()}))) {
      const auto current = detail::parseVersion(*cur);
      if (!current) {
        info.error = keys.current() + " holds '" + *cur + "', not a version number";
        return info;
      }
      info.current = *current;
    }
    for (const auto& entry : scanVersions(conn, keys)) info.stored_versions.push_back(entry.first);
    info.version = version != 0 ? version : info.current;
    if (info.version == 0) {
      info.ok = true;  // nothing published yet
      return info;
    }
    info.meta =
        detail::asPairs(*conn.command({"HGETALL", keys.version(info.version, detail::kMetaPart)}));
    if (info.meta.empty()) {
      info.error = "version " + std::to_string(info.version) + " does not exist";
      return info;
    }
    std::sort(info.meta.begin(), info.meta.end());
    for (const char* part : detail::kVersionParts) {
      if (std::string_view(part) == detail::kMetaPart) continue;
      const std::int64_t n =
          detail::asInteger(*conn.command({"HLEN", keys.version(info.version, part)}));
      info.counts.emplace_back(part, static_cast<std::uint64_t>(n));
    }
    info.ok = true;
  } catch (const std::exception& e) {
    info.ok = false;
    info.error = e.what();
  }
  return info;
}

}  // namespace sb::redis
