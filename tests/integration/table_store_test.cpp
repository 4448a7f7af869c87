// Publishing and fetching table versions against a real redis-server (SPEC §5).
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <sstream>

#include "core/routing_table.hpp"
#include "helpers.hpp"
#include "redis/table_info.hpp"
#include "redis/table_store.hpp"
#include "support/redis_server.hpp"
#include "tables/yaml_tables.hpp"

namespace {

using sb::redis::RedisAddress;
using sb::test::canonical;
using sb::test::RedisServer;

RedisAddress addressOf(const RedisServer& server, const std::string& prefix = "sb") {
  RedisAddress addr = sb::redis::parseRedisAddress(server.address());
  addr.prefix = prefix;
  return addr;
}

sb::core::TableSpec exampleSpec() {
  sb::tables::LoadResult loaded = sb::tables::loadTableDir(sb::test::exampleDir());
  REQUIRE(loaded.errors.empty());
  return loaded.spec;
}

// Version numbers that have keys in Redis under prefix "sb".
std::set<std::string> storedVersions(const RedisServer& server) {
  std::set<std::string> versions;
  std::istringstream keys(server.command({"KEYS", "sb:tables:v*"}));
  for (std::string key; std::getline(keys, key);) {
    const auto start = key.find(":v") + 2;
    versions.insert(key.substr(start, key.find(':', start) - start));
  }
  return versions;
}

// A valid spec with `count` county-level routes, for sizing.
sb::core::TableSpec bigSpec(std::size_t count) {
  sb::core::TableSpec spec = exampleSpec();
  std::size_t made = 0;
  for (int province = 11; province <= 65 && made < count; ++province) {
    const std::string p = std::to_string(province);
    bool listed = false;
    for (const auto& r : spec.regions) listed = listed || r.code == p + "0000";
    if (!listed) continue;
    for (int city = 1; city <= 99 && made < count; ++city) {
      for (int county = 1; county <= 99 && made < count; ++county) {
        char key[8];
        std::snprintf(key, sizeof key, "%s%02d%02d", p.c_str(), city, county);
        sb::core::RouteSpec route;
        route.key = key;
        route.groups = {{{"js-suzhou", 2, {}}, {"zj-hangzhou", 1, {}}},
                        {{"mohrss-national", 1, {}}}};
        spec.routes.push_back(std::move(route));
        ++made;
      }
    }
  }
  REQUIRE(made == count);
  return spec;
}

}  // namespace

TEST_CASE("Redis addresses parse as host:port, [v6]:port or host", "[redis]") {
  auto a = sb::redis::parseRedisAddress("10.1.2.3:6380");
  CHECK(a.host == "10.1.2.3");
  CHECK(a.port == 6380);
  CHECK(a.prefix == "sb");
  CHECK(a.password.empty());
  a = sb::redis::parseRedisAddress("redis.local");
  CHECK(a.host == "redis.local");
  CHECK(a.port == 6379);
  a = sb::redis::parseRedisAddress("[::1]:7000");
  CHECK(a.host == "::1");
  CHECK(a.port == 7000);
  a = sb::redis::parseRedisAddress("[fe80::1]");
  CHECK(a.host == "fe80::1");
  CHECK(a.port == 6379);
  for (const char* bad : {"", ":6379", "host:", "host:0", "host:65536", "host:12x", "::1:6379",
                          "[::1", "[::1]6379", "[]:1"}) {
    INFO(bad);
    CHECK_THROWS_AS(sb::redis::parseRedisAddress(bad), std::invalid_argument);
  }
}

TEST_CASE("publish then fetch returns the same tables", "[redis]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  const sb::core::TableSpec spec = exampleSpec();

  // Nothing published yet: not an error, version 0.
  const sb::redis::FetchResult empty = sb::redis::fetchTables(addr);
  CHECK(empty.ok);
  CHECK(empty.version == 0);
  CHECK(empty.spec.trunks.empty());

  const sb::redis::PublishResult published =
      sb::redis::publishTables(addr, spec, "routing-tables/example");
  INFO(published.error);
  REQUIRE(published.ok);
  CHECK(published.version == 1);
  CHECK(server.command({"GET", "sb:tables:current"}) == "1");
  CHECK(server.command({"HGET", "sb:tables:v1:meta", "source"}) == "routing-tables/example");
  CHECK(server.command({"HGET", "sb:tables:v1:meta", "trunks"}) == "9");
  CHECK(server.command({"HGET", "sb:tables:v1:meta", "routes"}) == "10");
  CHECK(server.command({"HGET", "sb:tables:v1:meta", "topics"}) == "173");
  CHECK(server.command({"HLEN", "sb:tables:v1:regions"}) == "56");
  CHECK(server.command({"HGET", "sb:tables:v1:area_codes", "0512"}) == "320500");
  CHECK(server.command({"HGET", "sb:tables:v1:routes", "320500"}) ==
        R"([[{"trunk": "js-suzhou", "weight": 1}], [{"trunk": "js-province", "weight": 1}]])");

  const sb::redis::FetchResult fetched = sb::redis::fetchTables(addr);
  INFO(fetched.error);
  REQUIRE(fetched.ok);
  CHECK(fetched.version == 1);
  CHECK(canonical(fetched.spec) == canonical(spec));
  // Trunks come back in the operator's order, and name where they came from.
  REQUIRE(fetched.spec.trunks.size() == spec.trunks.size());
  for (std::size_t i = 0; i < spec.trunks.size(); ++i) {
    CHECK(fetched.spec.trunks[i].name == spec.trunks[i].name);
  }
  CHECK(fetched.spec.trunks[0].loc.file == "redis:sb:tables:v1:trunks");
  CHECK(sb::core::buildTable(fetched.spec, fetched.version).errors.empty());

  // A second version; both stay readable by number.
  sb::core::TableSpec changed = spec;
  changed.trunks[0].capacity = 7;
  const auto second = sb::redis::publishTables(addr, changed, "changed");
  REQUIRE(second.ok);
  CHECK(second.version == 2);
  CHECK(canonical(sb::redis::fetchTables(addr).spec) == canonical(changed));
  CHECK(canonical(sb::redis::fetchTables(addr, 1).spec) == canonical(spec));
  const auto missing = sb::redis::fetchTables(addr, 9);
  CHECK_FALSE(missing.ok);
  CHECK_THAT(missing.error, Catch::Contains("version 9 does not exist"));

  const sb::redis::TableInfo info = sb::redis::readTableInfo(addr);
  REQUIRE(info.ok);
  CHECK(info.current == 2);
  CHECK(info.version == 2);
  CHECK(info.stored_versions == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("strings that need escaping survive the JSON round trip", "[redis]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  sb::core::TableSpec spec;
  sb::core::TrunkSpec trunk;
  trunk.name = "odd";
  trunk.region = "320500";
  trunk.display_name = "quote \" backslash \\ newline \n tab \t bell \x07 中文 end";
  trunk.targets = {"sip:user@host:5060;transport=tcp"};
  trunk.capacity = 4294967295u;
  spec.trunks.push_back(trunk);
  sb::core::RegionSpec region;
  region.code = "320500";
  region.name_zh = "苏州";
  region.name_en = "Su\"zhou";
  spec.regions.push_back(region);
  spec.caller_prefixes.push_back({"1390512", "320500", {}});
  REQUIRE(sb::redis::publishTables(addr, spec, "test").ok);
  const auto fetched = sb::redis::fetchTables(addr);
  INFO(fetched.error);
  REQUIRE(fetched.ok);
  CHECK(canonical(fetched.spec) == canonical(spec));
}

TEST_CASE("the publisher keeps the newest versions and never reuses a number", "[redis]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  const sb::core::TableSpec spec = exampleSpec();
  for (int i = 1; i <= 6; ++i) REQUIRE(sb::redis::publishTables(addr, spec, "x", 3).ok);
  CHECK(storedVersions(server) == std::set<std::string>{"4", "5", "6"});
  CHECK(server.command({"GET", "sb:tables:current"}) == "6");

  // The counter lost (or reset by hand) while `current` survived: numbers go on after it.
  server.command({"DEL", "sb:tables:seq"});
  const auto next = sb::redis::publishTables(addr, spec, "x", 3);
  REQUIRE(next.ok);
  CHECK(next.version == 7);
  CHECK(storedVersions(server) == std::set<std::string>{"5", "6", "7"});
}

TEST_CASE("prefixes keep separate table sets apart", "[redis]") {
  RedisServer server;
  sb::core::TableSpec spec = exampleSpec();
  REQUIRE(sb::redis::publishTables(addressOf(server, "a"), spec, "a").ok);
  spec.trunks[0].cps = 99;
  REQUIRE(sb::redis::publishTables(addressOf(server, "b"), spec, "b").ok);
  REQUIRE(sb::redis::publishTables(addressOf(server, "b"), spec, "b").ok);
  CHECK(sb::redis::fetchTables(addressOf(server, "a")).version == 1);
  CHECK(sb::redis::fetchTables(addressOf(server, "b")).version == 2);
  CHECK(sb::redis::fetchTables(addressOf(server, "a")).spec.trunks[0].cps == 20);
  CHECK(sb::redis::fetchTables(addressOf(server, "sb")).version == 0);
}

TEST_CASE("Redis trouble is an error, returned promptly", "[redis]") {
  const sb::core::TableSpec spec = exampleSpec();
  SECTION("nothing listening") {
    RedisAddress addr;
    addr.port = sb::test::freePort();
    const auto start = std::chrono::steady_clock::now();
    const auto published = sb::redis::publishTables(addr, spec, "x");
    const auto fetched = sb::redis::fetchTables(addr);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
    CHECK_FALSE(published.ok);
    CHECK_FALSE(published.error.empty());
    CHECK_FALSE(fetched.ok);
    CHECK_FALSE(fetched.error.empty());
  }
  SECTION("password required") {
    RedisServer server("s3cret pass");
    RedisAddress addr = addressOf(server);
    const auto refused = sb::redis::publishTables(addr, spec, "x");
    CHECK_FALSE(refused.ok);
    CHECK_THAT(refused.error, Catch::Contains("NOAUTH"));
    addr.password = "wrong";
    const auto wrong = sb::redis::publishTables(addr, spec, "x");
    CHECK_FALSE(wrong.ok);
    CHECK_THAT(wrong.error, Catch::Contains("AUTH failed"));
    CHECK_THAT(wrong.error, !Catch::Contains("wrong"));  // never print the password
    addr.password = "s3cret pass";
    const auto accepted = sb::redis::publishTables(addr, spec, "x");
    INFO(accepted.error);
    CHECK(accepted.ok);
    CHECK(sb::redis::fetchTables(addr).ok);
  }
}

TEST_CASE("a stored version with bad data fails to fetch with the key named", "[redis]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  REQUIRE(sb::redis::publishTables(addr, exampleSpec(), "x").ok);
  server.command({"HSET", "sb:tables:v1:trunks", "js-suzhou", "{not json"});
  server.command({"HSET", "sb:tables:v1:routes", "330000", R"({"trunk": "ha-province"})"});
  const auto fetched = sb::redis::fetchTables(addr);
  CHECK_FALSE(fetched.ok);
  CHECK_THAT(fetched.error, Catch::Contains("redis:sb:tables:v1:trunks: field 'js-suzhou'"));
  CHECK_THAT(fetched.error, Catch::Contains("redis:sb:tables:v1:routes: route '330000'"));

  server.command({"SET", "sb:tables:current", "banana"});
  const auto garbage = sb::redis::fetchTables(addr);
  CHECK_FALSE(garbage.ok);
  CHECK_THAT(garbage.error, Catch::Contains("not a version number"));
}

TEST_CASE("a 100,000-route table publishes and loads in seconds", "[redis][size]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  const sb::core::TableSpec spec = bigSpec(100000);
  REQUIRE(sb::core::buildTable(spec, 0).errors.empty());

  auto start = std::chrono::steady_clock::now();
  const auto published = sb::redis::publishTables(addr, spec, "big");
  const auto publish_time = std::chrono::steady_clock::now() - start;
  INFO(published.error);
  REQUIRE(published.ok);
  CHECK(server.command({"HLEN", "sb:tables:v1:routes"}) == "100010");

  start = std::chrono::steady_clock::now();
  const auto fetched = sb::redis::fetchTables(addr);
  const auto fetch_time = std::chrono::steady_clock::now() - start;
  REQUIRE(fetched.ok);
  CHECK(fetched.spec.routes.size() == 100010);
  WARN("publish " << std::chrono::duration_cast<std::chrono::milliseconds>(publish_time).count()
                  << " ms, fetch "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(fetch_time).count()
                  << " ms");
  CHECK(publish_time < std::chrono::seconds(10));
  CHECK(fetch_time < std::chrono::seconds(20));
}

// SPEC §4: a trunk's own probe settings travel through Redis with only the fields given.
TEST_CASE("per-trunk probe settings survive the round trip through Redis", "[redis][probe]") {
  RedisServer server;
  const RedisAddress addr = addressOf(server);
  sb::core::TableSpec spec = exampleSpec();
  REQUIRE(spec.trunks.size() >= 3);
  sb::core::ProbeSpec all;
  all.settings.enabled = true;
  all.settings.interval_ms = 5000;
  all.settings.jitter_percent = 0;
  all.settings.timeout_ms = 999;
  all.settings.down_after = 1;
  all.settings.up_after = 100;
  all.settings.accepted_codes = std::vector<int>{200, 404, 405};
  spec.trunks[0].probe = all;
  sb::core::ProbeSpec off;
  off.settings.enabled = false;
  spec.trunks[1].probe = off;
  sb::core::ProbeSpec any;
  any.settings.accepted_codes = std::vector<int>{};
  spec.trunks[2].probe = any;
  const std::string first = spec.trunks[0].name;

  REQUIRE(sb::redis::publishTables(addr, spec, "probe").ok);
  CHECK_THAT(server.command({"HGET", "sb:tables:v1:trunks", first}),
             Catch::EndsWith(R"("probe": {"enabled": true, "interval_ms": 5000, )"
                             R"("jitter_percent": 0, "timeout_ms": 999, "down_after": 1, )"
                             R"("up_after": 100, "accepted_codes": [200, 404, 405]}})"));
  CHECK_THAT(server.command({"HGET", "sb:tables:v1:trunks", spec.trunks[1].name}),
             Catch::EndsWith(R"("probe": {"enabled": false}})"));
  CHECK_THAT(server.command({"HGET", "sb:tables:v1:trunks", spec.trunks[2].name}),
             Catch::EndsWith(R"("probe": {"accepted_codes": []}})"));
  // A trunk without its own settings stores no probe member at all.
  CHECK_THAT(server.command({"HGET", "sb:tables:v1:trunks", "ha-province"}),
             !Catch::Contains("probe"));

  const sb::redis::FetchResult fetched = sb::redis::fetchTables(addr);
  INFO(fetched.error);
  REQUIRE(fetched.ok);
  CHECK(sb::test::canonical(fetched.spec) == sb::test::canonical(spec));
  const sb::core::BuildResult built = sb::core::buildTable(fetched.spec, fetched.version);
  REQUIRE(built.errors.empty());
  CHECK(built.table->findTrunk(first)->probe == all.settings);
  CHECK(built.table->findTrunk(spec.trunks[1].name)->probe == off.settings);
  CHECK(built.table->findTrunk(spec.trunks[2].name)->probe == any.settings);
  CHECK(built.table->findTrunk("ha-province")->probe.empty());

  // Bad stored probe data fails the fetch, naming the key and the trunk.
  server.command({"HSET", "sb:tables:v1:trunks", "ha-province",
                  R"({"order": 2, "region": "410000", "display_name": "x", "targets": )"
                  R"(["sip:127.0.0.1:1"], "sources": [], "capacity": 0, "cps": 0, )"
                  R"("probe": {"enabled": "yes", "interval_ms": -5, "accepted_codes": 200}})"});
  const sb::redis::FetchResult bad = sb::redis::fetchTables(addr);
  CHECK_FALSE(bad.ok);
  CHECK_THAT(bad.error, Catch::Contains("redis:sb:tables:v1:trunks: trunk 'ha-province' probe "
                                        "enabled must be true or false"));
  CHECK_THAT(bad.error, Catch::Contains("trunk 'ha-province' probe interval_ms must be a "
                                        "non-negative integer"));
  CHECK_THAT(bad.error,
             Catch::Contains("trunk 'ha-province' probe accepted_codes must be an array"));
  // Out-of-range values decode and are then refused by the build, like a file's.
  server.command({"HSET", "sb:tables:v1:trunks", "ha-province",
                  R"({"order": 2, "region": "410000", "display_name": "x", "targets": )"
                  R"(["sip:127.0.0.1:1"], "sources": [], "capacity": 0, "cps": 0, )"
                  R"("probe": {"interval_ms": 50}})"});
  const sb::redis::FetchResult range = sb::redis::fetchTables(addr);
  REQUIRE(range.ok);
  const sb::core::BuildResult refused = sb::core::buildTable(range.spec, range.version);
  REQUIRE(refused.errors.size() == 1);
  CHECK(sb::core::formatError(refused.errors[0]) ==
        "redis:sb:tables:v1:trunks: trunk 'ha-province' probe interval_ms 50 ms must be between "
        "100 and 3600000 ms");
}
