// Topic codes and (region, topic) routes: parsing, build checks and lookup precedence.
// SPEC §3: a (region, topic) route beats a region-only route at the same level.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/routing_table.hpp"
#include "core/topic.hpp"
#include "sample_tables.hpp"

using sb::core::Level;
using sb::core::RegionCode;
using sb::core::TopicCode;

namespace {

const std::string kTopics = "tables/topics.yaml";

std::optional<TopicCode> topic(std::string_view text) { return sb::core::parseTopicCode(text); }

// Regions, topics and one trunk; each test adds the routes it needs.
sb::core::TableSpec topicSpec(const std::vector<std::string>& keys) {
  using sb::test::at;
  sb::core::TableSpec spec;
  spec.regions = {{"320000", "江苏省", "Jiangsu", at(sb::test::kRegions, 1)},
                  {"320500", "苏州市", "Suzhou", at(sb::test::kRegions, 2)},
                  {"320100", "南京市", "Nanjing", at(sb::test::kRegions, 3)}};
  spec.topics = {{"02", "人力资源社会保障法制工作", "HRSS legal affairs", at(kTopics, 1)},
                 {"0201", "行政执法监督", "Supervision", at(kTopics, 2)},
                 {"0202", "劳动保障监察", "Labour inspection", at(kTopics, 3)},
                 {"14", "养老保险", "Pension insurance", at(kTopics, 4)},
                 {"1401", "机关事业单位养老保险", "Public-sector pension", at(kTopics, 5)},
                 {"1402", "城镇职工基本养老保险", "Urban employee pension", at(kTopics, 6)}};
  spec.trunks = {sb::test::trunk("t", "320000", "sip:10.0.0.1", "10.0.0.1", 1)};
  int line = 1;
  for (const std::string& key : keys) {
    spec.routes.push_back(
        {key, {{sb::test::member("t", 1, line)}}, sb::test::at(sb::test::kRoutes, line)});
    ++line;
  }
  return spec;
}

std::vector<std::string> buildErrors(const sb::core::TableSpec& spec) {
  std::vector<std::string> out;
  for (const auto& e : sb::core::buildTable(spec, 1).errors) out.push_back(formatError(e));
  return out;
}

}  // namespace

TEST_CASE("parseTopicCode: 2 or 4 ASCII digits, no level 00", "[topic]") {
  CHECK(topic("02") == TopicCode{10002});
  CHECK(topic("0202") == TopicCode{202});
  CHECK(topic("27") == TopicCode{10027});
  CHECK(topic("1402") == TopicCode{1402});
  CHECK(topic("9999") == TopicCode{9999});
  for (std::string_view bad : {"", "0", "2", "002", "00202", "00", "0000", "0002", "0200", "1400",
                               "+02", " 02", "02 ", "0x02", "１４"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(topic(bad).has_value());
  }
  CHECK_FALSE(topic(std::string_view("02\0", 3)).has_value());
}

TEST_CASE("topic codes: levels and text", "[topic]") {
  CHECK(sb::core::isFirstLevelTopic(*topic("02")));
  CHECK_FALSE(sb::core::isFirstLevelTopic(*topic("0202")));
  CHECK(sb::core::firstLevelOf(*topic("0202")) == *topic("02"));
  CHECK(sb::core::firstLevelOf(*topic("1402")) == *topic("14"));
  CHECK(sb::core::firstLevelOf(*topic("14")) == *topic("14"));
  CHECK(sb::core::firstLevelOf(sb::core::kNoTopic) == sb::core::kNoTopic);
  for (std::string_view text : {"01", "02", "27", "99", "0101", "0202", "1402", "9901", "9999"}) {
    CHECK(sb::core::topicText(*topic(text)).view() == text);
  }
  CHECK(sb::core::topicText(sb::core::kNoTopic).view().empty());
  CHECK(sb::core::routeKeyText(320500, *topic("0202")).view() == "320500/0202");
  CHECK(sb::core::routeKeyText(320500, sb::core::kNoTopic).view() == "320500");
  CHECK(sb::core::routeKeyText(sb::core::kNoRegion, *topic("02")).view() == "default/02");
  CHECK(sb::core::routeKeyText(sb::core::kNoRegion, sb::core::kNoTopic).view() == "default");
}

TEST_CASE("lookup with a topic: the topic route wins at its level, never above it", "[topic]") {
  const sb::core::BuildResult built = sb::core::buildTable(
      topicSpec({"320506/0202", "320506", "320500/0202", "320500/02", "320500", "320000/1402",
                 "320000/14", "320000", "default/0202", "default/02", "default"}),
      1);
  for (const auto& e : built.errors) UNSCOPED_INFO(formatError(e));
  REQUIRE(built.table);
  const sb::core::RoutingTable& table = *built.table;
  CHECK(table.routeCount() == 11);
  CHECK(table.topicCount() == 6);

  struct Case {
    RegionCode code;
    std::string_view topic;  // "" = none
    std::string_view key;    // the route key that must match
    Level level;
  };
  const Case cases[] = {
      // county+topic > county
      {320506, "0202", "320506/0202", Level::County},
      {320506, "0201", "320506", Level::County},  // county beats city+topic
      {320506, "02", "320506", Level::County},    // no county route for the first level
      {320506, "", "320506", Level::County},
      // city+topic > city; the exact second level beats the first level at the same level
      {320505, "0202", "320500/0202", Level::City},
      {320505, "0201", "320500/02", Level::City},  // "02" covers 0201
      {320505, "02", "320500/02", Level::City},    // a first-level topic: first-level routes only
      {320500, "0202", "320500/0202", Level::City},
      {320505, "1402", "320500", Level::City},  // city beats province+topic
      {320505, "", "320500", Level::City},
      // province+topic > province
      {320100, "1402", "320000/1402", Level::Province},
      {320100, "1401", "320000/14", Level::Province},
      {320100, "14", "320000/14", Level::Province},
      {320102, "1402", "320000/1402", Level::Province},
      {320000, "1402", "320000/1402", Level::Province},
      {320100, "0202", "320000", Level::Province},  // province beats default+topic
      {320100, "", "320000", Level::Province},
      // default+topic > default
      {440300, "0202", "default/0202", Level::Default},
      {440300, "0201", "default/02", Level::Default},
      {440300, "1402", "default", Level::Default},
      {440300, "", "default", Level::Default},
      {sb::core::kNoRegion, "0202", "default/0202", Level::Default},
      {sb::core::kNoRegion, "", "default", Level::Default},
  };
  for (const Case& c : cases) {
    CAPTURE(c.code, std::string(c.topic));
    const TopicCode t = c.topic.empty() ? sb::core::kNoTopic : *topic(c.topic);
    const sb::core::LookupResult found = table.lookup(c.code, t);
    REQUIRE(found.route != nullptr);
    CHECK(sb::core::routeKeyText(found.matched, found.topic).view() == c.key);
    CHECK(found.level == c.level);
  }
  // Without a topic the old lookup and the new one agree.
  for (const RegionCode code : {320506u, 320505u, 320100u, 440300u}) {
    const auto a = table.lookup(code);
    const auto b = table.lookup(code, sb::core::kNoTopic);
    CHECK(a.route == b.route);
    CHECK(a.matched == b.matched);
    CHECK(b.topic == sb::core::kNoTopic);
  }
}

TEST_CASE("a topic route alone still leaves region-only calls to the levels above", "[topic]") {
  const sb::core::BuildResult built =
      sb::core::buildTable(topicSpec({"320500/0202", "320000", "default"}), 1);
  REQUIRE(built.table);
  const auto without = built.table->lookup(320500, sb::core::kNoTopic);
  CHECK(sb::core::routeKeyText(without.matched, without.topic).view() == "320000");
  const auto with = built.table->lookup(320500, *topic("0202"));
  CHECK(sb::core::routeKeyText(with.matched, with.topic).view() == "320500/0202");
  const auto other = built.table->lookup(320500, *topic("1402"));
  CHECK(sb::core::routeKeyText(other.matched, other.topic).view() == "320000");
}

TEST_CASE("topic validation in buildTable, with file:line", "[topic][build]") {
  SECTION("a route topic not in the topics table") {
    CHECK(buildErrors(topicSpec({"320000/0299", "default/03", "320000"})) ==
          std::vector<std::string>{
              "tables/routes.yaml:1: topic '0299' in route key '320000/0299' is not in the "
              "topics table",
              "tables/routes.yaml:2: topic '03' in route key 'default/03' is not in the topics "
              "table"});
  }
  SECTION("no topics table at all: every topic route is an error") {
    sb::core::TableSpec spec = topicSpec({"320000/0202", "320000"});
    spec.topics.clear();
    CHECK(buildErrors(spec) ==
          std::vector<std::string>{"tables/routes.yaml:1: topic '0202' in route key "
                                   "'320000/0202' is not in the topics table"});
  }
  SECTION("malformed route keys") {
    const std::vector<std::string> errors =
        buildErrors(topicSpec({"320000/202", "320000/", "320000/0200", "32000/0202", "320000"}));
    REQUIRE(errors.size() == 4);
    CHECK_THAT(errors[0], Catch::StartsWith("tables/routes.yaml:1: bad topic '202'"));
    CHECK_THAT(errors[1], Catch::StartsWith("tables/routes.yaml:2: bad topic ''"));
    CHECK_THAT(errors[2], Catch::StartsWith("tables/routes.yaml:3: bad topic '0200'"));
    CHECK_THAT(errors[3], Catch::StartsWith("tables/routes.yaml:4: bad division code '32000'"));
  }
  SECTION("duplicate topic route, and a topic route outside the listed provinces") {
    const std::vector<std::string> errors =
        buildErrors(topicSpec({"320000/0202", "320000/0202", "440000/0202", "320000"}));
    REQUIRE(errors.size() == 2);
    CHECK_THAT(errors[0], Catch::StartsWith("tables/routes.yaml:2: duplicate route key "
                                            "'320000/0202' (first defined at "
                                            "tables/routes.yaml:1)"));
    CHECK(errors[1] ==
          "tables/routes.yaml:3: route 440000/0202: province 440000 is not a listed region");
  }
  SECTION("the topics table itself") {
    sb::core::TableSpec spec = topicSpec({"320000"});
    spec.topics.push_back({"0301", "积极的就业政策", "", sb::test::at(kTopics, 7)});
    spec.topics.push_back({"0202", "again", "", sb::test::at(kTopics, 8)});
    spec.topics.push_back({"2", "bad", "", sb::test::at(kTopics, 9)});
    spec.topics.push_back({"1400", "bad", "", sb::test::at(kTopics, 10)});
    const std::vector<std::string> errors = buildErrors(spec);
    REQUIRE(errors.size() == 4);
    CHECK(errors[0] == "tables/topics.yaml:7: topic '0301': its first level '03' is not listed");
    CHECK(errors[1] ==
          "tables/topics.yaml:8: duplicate topic '0202' (first defined at tables/topics.yaml:3)");
    CHECK_THAT(errors[2], Catch::StartsWith("tables/topics.yaml:9: bad topic code '2'"));
    CHECK_THAT(errors[3], Catch::StartsWith("tables/topics.yaml:10: bad topic code '1400'"));
  }
  SECTION("names of listed topics") {
    const sb::core::BuildResult built = sb::core::buildTable(topicSpec({"320000"}), 1);
    REQUIRE(built.table);
    const sb::core::TopicInfo* info = built.table->topic(*topic("0202"));
    REQUIRE(info != nullptr);
    CHECK(info->name_zh == "劳动保障监察");
    CHECK(built.table->topic(*topic("0301")) == nullptr);
  }
}
