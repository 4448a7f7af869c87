// Opening hours and topics through the real loaders: YAML files (errors with file:line) and
// a round trip through a real redis-server, including versions published before either
// existed (issue 4, items 4 and 5).
#include <catch2/catch.hpp>

#include <string>
#include <tuple>
#include <vector>

#include "core/china_time.hpp"
#include "core/routing_table.hpp"
#include "helpers.hpp"
#include "redis/table_store.hpp"
#include "support/redis_server.hpp"
#include "tables/yaml_tables.hpp"

namespace {

using sb::test::TempTableDir;

std::string allErrors(const std::vector<sb::core::TableError>& errors) {
  std::string out;
  for (const auto& e : errors) out += sb::core::formatError(e) + "\n";
  return out;
}

// file name, line, a part of the message
using Expected = std::tuple<std::string, int, std::string>;

void requireErrors(const TempTableDir& dir, const std::vector<Expected>& expected) {
  const std::vector<sb::core::TableError> errors = sb::tables::validateTableDir(dir.path());
  INFO(allErrors(errors));
  REQUIRE(errors.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [file, line, message] = expected[i];
    CHECK(errors[i].loc.file == dir.file(file));
    CHECK(errors[i].loc.line == line);
    CHECK_THAT(errors[i].message, Catch::Contains(message));
  }
}

// A valid set: two trunks, the second with hours; routes with and without topics.
void writeSet(const TempTableDir& dir, const std::string& hours, const std::string& routes,
              const std::string& topics) {
  dir.write("trunks.yaml",
            "trunks:\n"                                  // 1
            "  - name: province\n"                       // 2
            "    region: \"320000\"\n"                   // 3
            "    display_name: P\n"                      // 4
            "    targets: [\"sip:127.0.0.1:5070\"]\n"    // 5
            "  - name: city\n"                           // 6
            "    region: \"320500\"\n"                   // 7
            "    display_name: C\n"                      // 8
            "    targets: [\"sip:127.0.0.1:5071\"]\n" +  // 9
                hours);                                  // 10...
  dir.write("routes.yaml", "routes:\n" + routes);
  dir.write("area-codes.yaml", "area_codes:\n  \"0512\": \"320500\"\n");
  dir.write("regions.yaml",
            "regions:\n  \"320000\": {name_zh: 江苏}\n  \"320500\": {name_zh: 苏州}\n");
  if (!topics.empty()) dir.write("topics.yaml", topics);
}

const std::string kRoutes =
    "  \"320500\": [city, province]\n"
    "  \"320000\": [province]\n";
const std::string kTopics =
    "topics:\n"
    "  \"02\": {name_zh: 法制工作, name_en: Legal affairs}\n"
    "  \"0202\": {name_zh: 劳动保障监察, name_en: Labour inspection}\n";

}  // namespace

TEST_CASE("hours and topics load from YAML", "[tables][hours][topic]") {
  TempTableDir dir;
  writeSet(dir,
           "    hours:\n"
           "      weekly:\n"
           "        - mon-fri 08:30-17:30\n"
           "        - \"sun 22:00-06:00\"\n"
           "      closed: [2026-10-01]\n"
           "      open: [\"2026-09-27 08:30-17:30\"]\n",
           kRoutes + "  \"320000/0202\": [city, province]\n  default/02: [province]\n", kTopics);
  const sb::tables::LoadResult loaded = sb::tables::loadTableDir(dir.path());
  INFO(allErrors(loaded.errors));
  REQUIRE(loaded.errors.empty());
  REQUIRE(loaded.spec.topics.size() == 2);
  CHECK(loaded.spec.topics[1].code == "0202");
  CHECK(loaded.spec.topics[1].name_en == "Labour inspection");
  CHECK(loaded.spec.topics[1].loc.line == 3);
  const sb::core::TrunkSpec& city = loaded.spec.trunks[1];
  REQUIRE(city.hours.has_value());
  CHECK(city.hours->loc.line == 11);  // a block map is where its first key is
  REQUIRE(city.hours->weekly.has_value());
  CHECK((*city.hours->weekly)[0].text == "mon-fri 08:30-17:30");
  CHECK((*city.hours->weekly)[0].loc.line == 12);
  CHECK((*city.hours->weekly)[1].loc.line == 13);
  CHECK(city.hours->closed[0].text == "2026-10-01");
  CHECK(city.hours->open[0].loc.line == 15);
  CHECK_FALSE(loaded.spec.trunks[0].hours.has_value());

  CHECK(sb::tables::validateTableDir(dir.path()).empty());
  const sb::core::BuildResult built = sb::core::buildTable(loaded.spec, 1);
  REQUIRE(built.table);
  const sb::core::Trunk* trunk = built.table->findTrunk("city");
  CHECK(trunk->openAt(*sb::core::parseTimeText("2026-09-28T08:30")));
  CHECK_FALSE(trunk->openAt(*sb::core::parseTimeText("2026-09-28T08:29")));
  CHECK(built.table->lookup(320500, *sb::core::parseTopicCode("0202")).matched == 320500);
  CHECK(built.table->lookup(320100, *sb::core::parseTopicCode("0202")).topic ==
        *sb::core::parseTopicCode("0202"));
}

TEST_CASE("a set without hours and topics loads as before", "[tables][hours][topic]") {
  TempTableDir dir;
  writeSet(dir, "", kRoutes, "");
  const sb::tables::LoadResult loaded = sb::tables::loadTableDir(dir.path());
  INFO(allErrors(loaded.errors));
  REQUIRE(loaded.errors.empty());
  CHECK(loaded.spec.topics.empty());
  CHECK_FALSE(loaded.spec.trunks[1].hours.has_value());
  const sb::core::BuildResult built = sb::core::buildTable(loaded.spec, 1);
  REQUIRE(built.table);
  CHECK(built.table->findTrunk("city")->hours.alwaysOpen());
}

TEST_CASE("hours and topic errors name file and line", "[tables][hours][topic]") {
  TempTableDir dir;
  SECTION("bad hours rules: days, times, overlaps, dates") {
    writeSet(dir,
             "    hours:\n"                              // 10
             "      weekly:\n"                           // 11
             "        - mon-fry 08:30-17:30\n"           // 12
             "        - sat 9:00-12:00\n"                // 13
             "        - sun 22:00-06:00\n"               // 14
             "        - mon 05:00-07:00\n"               // 15
             "      closed: [2026-02-30, 2026-10-01]\n"  // 16
             "      open:\n"                             // 17
             "        - 2026-10-01 08:30-17:30\n"        // 18
             "        - 2026-09-27 08:30-08:30\n",       // 19
             kRoutes, "");
    requireErrors(dir, {{"trunks.yaml", 12, "unknown day 'mon-fry'"},
                        {"trunks.yaml", 13, "bad time range '9:00-12:00'"},
                        {"trunks.yaml", 15, "overlaps 'sun 22:00-06:00' ("},
                        {"trunks.yaml", 16, "hours closed '2026-02-30': bad date"},
                        {"trunks.yaml", 18, "also listed as closed"},
                        {"trunks.yaml", 19, "is empty (start equals end)"}});
    const auto errors = sb::tables::validateTableDir(dir.path());
    CHECK(errors[0].message ==
          "trunk 'city' hours weekly 'mon-fry 08:30-17:30': unknown day 'mon-fry' (expected mon, "
          "tue, wed, thu, fri, sat, sun, a range such as mon-fri, a list such as mon,wed, or "
          "daily)");
    CHECK_THAT(errors[2].message,
               Catch::EndsWith("(" + dir.file("trunks.yaml") + ":14) at mon 05:00"));
  }
  SECTION("bad hours shapes") {
    writeSet(dir,
             "    hours:\n"                         // 10
             "      weekly: mon-fri 08:30-17:30\n"  // 11
             "      closed:\n"                      // 12
             "      open: [[x]]\n"                  // 13
             "      holidays: []\n",                // 14
             kRoutes, "");
    requireErrors(dir, {{"trunks.yaml", 11,
                         "hours weekly must be a list of strings, found "
                         "'mon-fri 08:30-17:30'"},
                        {"trunks.yaml", 12,
                         "hours closed must be a list of strings, found "
                         "nothing"},
                        {"trunks.yaml", 13, "hours open item must be a string, found a list"},
                        {"trunks.yaml", 14, "unknown key 'holidays'"}});
  }
  SECTION("an empty weekly list") {
    writeSet(dir, "    hours: {weekly: []}\n", kRoutes, "");
    requireErrors(dir, {{"trunks.yaml", 10, "'weekly' is empty"}});
  }
  SECTION("topic routes need listed topics") {
    writeSet(dir, "",
             kRoutes +
                 "  \"320000/0299\": [province]\n"  // 4
                 "  \"320000/2\": [province]\n"     // 5
                 "  default/0202: [province]\n",    // 6
             kTopics);
    requireErrors(dir, {{"routes.yaml", 4,
                         "topic '0299' in route key '320000/0299' is not in "
                         "the topics table"},
                        {"routes.yaml", 5, "bad topic '2' in route key '320000/2'"}});
  }
  SECTION("without topics.yaml no topic route is valid") {
    writeSet(dir, "", kRoutes + "  \"320000/0202\": [province]\n", "");
    requireErrors(dir, {{"routes.yaml", 4, "is not in the topics table"}});
  }
  SECTION("bad topics.yaml entries") {
    writeSet(dir, "", kRoutes,
             "topics:\n"
             "  \"02\": {name_zh: 法制工作}\n"          // 2
             "  \"0301\": {name_zh: 就业}\n"            // 3
             "  \"0202\": {name_en: Inspection}\n"      // 4
             "  \"0203\": {name_zh: x, colour: red}\n"  // 5
             "  \"02\": {name_zh: again}\n"             // 6
             "  \"123\": {name_zh: bad}\n");            // 7
    requireErrors(dir, {{"topics.yaml", 3, "its first level '03' is not listed"},
                        {"topics.yaml", 4, "missing key 'name_zh'"},
                        {"topics.yaml", 5, "unknown key 'colour'"},
                        {"topics.yaml", 6, "duplicate topic '02'"},
                        {"topics.yaml", 7, "bad topic code '123'"}});
  }
  SECTION("topics.yaml with the wrong top-level key") {
    writeSet(dir, "", kRoutes, "topic:\n  \"02\": {name_zh: x}\n");
    requireErrors(dir, {{"topics.yaml", 1, "unknown key 'topic'"},
                        {"topics.yaml", 1, "missing key 'topics'"}});
  }
}

TEST_CASE("hours and topics round-trip through Redis", "[redis][hours][topic]") {
  sb::test::RedisServer server;
  sb::redis::RedisAddress addr = sb::redis::parseRedisAddress(server.address());
  const sb::tables::LoadResult loaded = sb::tables::loadTableDir(sb::test::exampleDir());
  REQUIRE(loaded.errors.empty());
  const sb::core::TableSpec& spec = loaded.spec;

  const sb::redis::PublishResult published = sb::redis::publishTables(addr, spec, "example");
  INFO(published.error);
  REQUIRE(published.ok);
  CHECK(server.command({"HGET", "sb:tables:v1:trunks", "zj-hangzhou"}) ==
        R"({"order": 3, "region": "330100", "display_name": "杭州市12333", )"
        R"("targets": ["sip:127.0.0.1:15102"], "sources": ["127.0.0.12"], "capacity": 100, )"
        R"("cps": 20, "hours": {"weekly": ["mon-fri 08:30-12:00 13:30-17:30"], "closed": )"
        R"(["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", )"
        R"("2026-10-06", "2026-10-07"], "open": []}})");
  CHECK_THAT(server.command({"HGET", "sb:tables:v1:trunks", "js-province"}),
             !Catch::Contains("hours"));
  CHECK(server.command({"HGET", "sb:tables:v1:topics", "0202"}) ==
        R"({"name_zh": "劳动保障监察", "name_en": "Labour and social-security inspection"})");
  CHECK(server.command({"HLEN", "sb:tables:v1:topics"}) == "173");
  CHECK(server.command({"HGET", "sb:tables:v1:routes", "320000/0202"}) ==
        R"([[{"trunk": "js-inspection", "weight": 1}], [{"trunk": "js-province", "weight": 1}]])");

  const sb::redis::FetchResult fetched = sb::redis::fetchTables(addr);
  INFO(fetched.error);
  REQUIRE(fetched.ok);
  CHECK(sb::test::canonical(fetched.spec) == sb::test::canonical(spec));
  const sb::core::BuildResult from_redis = sb::core::buildTable(fetched.spec, fetched.version);
  const sb::core::BuildResult from_files = sb::core::buildTable(spec, 0);
  REQUIRE(from_redis.table);
  REQUIRE(from_files.table);
  CHECK(from_redis.table->topicCount() == 173);
  // The same schedule either way, hour by hour over the National Day week.
  const std::int64_t start = *sb::core::parseTimeText("2026-09-26T00:00");
  for (const char* name : {"js-suzhou", "zj-hangzhou", "js-inspection", "js-province"}) {
    CAPTURE(name);
    const sb::core::Trunk* a = from_redis.table->findTrunk(name);
    const sb::core::Trunk* b = from_files.table->findTrunk(name);
    for (std::int64_t t = start; t < start + 20 * 86400; t += 1800) {
      CHECK(a->openAt(t) == b->openAt(t));
    }
  }
}

TEST_CASE("a version published before hours and topics loads as 7x24 without topics",
          "[redis][hours][topic]") {
  sb::test::RedisServer server;
  const sb::redis::RedisAddress addr = sb::redis::parseRedisAddress(server.address());
  // Exactly what the publisher wrote before: no "hours" member, no topics hash.
  server.command(
      {"HSET", "sb:tables:v4:trunks", "a",
       R"({"order": 0, "region": "320500", "display_name": "A", "targets": )"
       R"(["sip:127.0.0.1:5070"], "sources": ["127.0.0.20"], "capacity": 10, "cps": 5})"});
  server.command({"HSET", "sb:tables:v4:routes", "320500", R"([[{"trunk": "a", "weight": 1}]])"});
  server.command({"HSET", "sb:tables:v4:area_codes", "0512", "320500"});
  server.command({"HSET", "sb:tables:v4:regions", "320000", R"({"name_zh": "江苏"})"});
  server.command({"HSET", "sb:tables:v4:meta", "version", "4", "format", "1", "trunks", "1"});
  server.command({"SET", "sb:tables:current", "4"});

  const sb::redis::FetchResult fetched = sb::redis::fetchTables(addr);
  INFO(fetched.error);
  REQUIRE(fetched.ok);
  CHECK(fetched.version == 4);
  CHECK(fetched.spec.topics.empty());
  REQUIRE(fetched.spec.trunks.size() == 1);
  CHECK_FALSE(fetched.spec.trunks[0].hours.has_value());
  const sb::core::BuildResult built = sb::core::buildTable(fetched.spec, 4);
  REQUIRE(built.table);
  CHECK(built.table->findTrunk("a")->hours.alwaysOpen());

  SECTION("bad stored hours make the version invalid or fail its build, naming the key") {
    server.command({"HSET", "sb:tables:v4:trunks", "a",
                    R"({"order": 0, "region": "320500", "display_name": "A", "targets": )"
                    R"(["sip:127.0.0.1:5070"], "sources": [], "capacity": 0, "cps": 0, )"
                    R"("hours": {"weekly": "mon-fri"}})"});
    const sb::redis::FetchResult invalid = sb::redis::fetchTables(addr);
    CHECK_FALSE(invalid.ok);
    CHECK_THAT(invalid.error, Catch::Contains("redis:sb:tables:v4:trunks: trunk 'a' hours "
                                              "weekly must be an array of strings"));
    server.command({"HSET", "sb:tables:v4:trunks", "a",
                    R"({"order": 0, "region": "320500", "display_name": "A", "targets": )"
                    R"(["sip:127.0.0.1:5070"], "sources": [], "capacity": 0, "cps": 0, )"
                    R"("hours": {"weekly": ["mon-fri 08:30-17:70"]}})"});
    const sb::redis::FetchResult bad_rule = sb::redis::fetchTables(addr);
    REQUIRE(bad_rule.ok);
    const sb::core::BuildResult rebuilt = sb::core::buildTable(bad_rule.spec, 4);
    REQUIRE(rebuilt.errors.size() == 1);
    CHECK(sb::core::formatError(rebuilt.errors[0]) ==
          "redis:sb:tables:v4:trunks: trunk 'a' hours weekly 'mon-fri 08:30-17:70': bad time "
          "range '08:30-17:70' (expected HH:MM-HH:MM, times 00:00 to 23:59, an end of 24:00 "
          "allowed)");
  }
}
