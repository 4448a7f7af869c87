// The routing decision end to end on a small table: dialled number -> region (dialled code,
// area code, caller's home region) -> route (with topics) -> candidates (opening hours, live
// state) -> the answer. SPEC §3-§4.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/china_time.hpp"
#include "core/decide.hpp"
#include "decide_tables.hpp"

using sb::core::DecideInput;
using sb::core::Decision;
using sb::core::DecisionStage;
using sb::core::Level;
using sb::core::RegionSource;
using sb::core::SkipReason;
using sb::core::TopicStatus;

namespace {

std::shared_ptr<const sb::core::RoutingTable> decideTable() {
  const sb::core::BuildResult built = sb::core::buildTable(sb::test::decideSpec(), 3);
  for (const auto& e : built.errors) UNSCOPED_INFO(formatError(e));
  REQUIRE(built.table);
  return built.table;
}

std::int64_t cst(std::string_view text) { return *sb::core::parseTimeText(text); }

// Monday 10:00 CST: every office is open.
const std::int64_t kWeekday = cst("2026-09-28T10:00");

Decision decideFor(const sb::core::RoutingTable& table, std::string_view dialled,
                   std::string_view caller = "", std::string_view topic = "",
                   std::int64_t now = kWeekday) {
  DecideInput input;
  input.dialled = dialled;
  input.caller = caller;
  input.topic = topic;
  input.now_unix = now;
  return sb::core::decide(table, input);
}

// Candidate trunk names in order, with "!reason" for skipped ones.
std::vector<std::string> candidates(const sb::core::RoutingTable& table, const Decision& d) {
  std::vector<std::string> out;
  for (const sb::core::Candidate& c : d.candidates) {
    std::string name = table.trunks()[c.trunk].name;
    if (!c.usable()) name += "!" + std::string(sb::core::skipReasonName(c.skip));
    out.push_back(name);
  }
  return out;
}

std::string key(const Decision& d) {
  return std::string(sb::core::routeKeyText(d.found.matched, d.found.topic).view());
}

}  // namespace

TEST_CASE("decide: a bare number routes by the caller's home region", "[decide]") {
  const auto table = decideTable();
  struct Case {
    std::string_view dialled;
    std::string_view caller;
    sb::core::RegionCode region;
    RegionSource source;
    std::string_view national;
    std::uint8_t matched;
    std::string_view trunk;
  };
  const Case cases[] = {
      // A Henan mobile, in every form peers send it: the caller's prefix -> Henan.
      {"12333", "13007501234", 410100, RegionSource::CallerMobile, "13007501234", 7, "ha-province"},
      {"12333", "+8613007501234", 410100, RegionSource::CallerMobile, "13007501234", 7,
       "ha-province"},
      {"12333", "008613007501234", 410100, RegionSource::CallerMobile, "13007501234", 7,
       "ha-province"},
      {"12333", "8613007501234", 410100, RegionSource::CallerMobile, "13007501234", 7,
       "ha-province"},
      {"12370", "+8613007501234", 410100, RegionSource::CallerMobile, "13007501234", 7,
       "ha-province"},
      {"12333", "13004561234", 320500, RegionSource::CallerMobile, "13004561234", 6, "js-suzhou"},
      // Fixed lines by area code, with or without +86 / 0086 / the trunk 0.
      {"12333", "037161234567", 410100, RegionSource::CallerAreaCode, "037161234567", 4,
       "ha-province"},
      {"12333", "+8637161234567", 410100, RegionSource::CallerAreaCode, "037161234567", 4,
       "ha-province"},
      {"12333", "0086037161234567", 410100, RegionSource::CallerAreaCode, "037161234567", 4,
       "ha-province"},
      {"12333", "+861062345678", 110000, RegionSource::CallerAreaCode, "01062345678", 3,
       "national"},  // Beijing has no route: the default one
      // Withheld, foreign, garbage, or a number no prefix knows: the default route.
      {"12333", "", 0, RegionSource::None, "", 0, "national"},
      {"12333", "anonymous", 0, RegionSource::None, "", 0, "national"},
      {"12333", "+14155550100", 0, RegionSource::None, "", 0, "national"},
      {"12333", "1300750123", 0, RegionSource::None, "", 0, "national"},
      {"12333", "13800001234", 0, RegionSource::None, "13800001234", 0, "national"},
      {"12333",
       std::string_view("1300750\0"
                        "1234",
                        12),
       0, RegionSource::None, "", 0, "national"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.dialled), std::string(c.caller));
    const Decision d = decideFor(*table, c.dialled, c.caller);
    REQUIRE(d.forward());
    CHECK(d.dial.dialled.form == sb::core::DialledForm::Bare);
    CHECK(d.region == c.region);
    CHECK(d.region_source == c.source);
    CHECK(d.caller.view() == c.national);
    CHECK(d.caller_match_length == c.matched);
    REQUIRE_FALSE(d.candidates.empty());
    CHECK(table->trunks()[d.candidates.front().trunk].name == c.trunk);
  }
  const Decision withheld = decideFor(*table, "12333", "anonymous");
  CHECK(withheld.found.level == Level::Default);
  CHECK(key(withheld) == "default");
}

TEST_CASE("decide: dialled codes and area codes name the region", "[decide]") {
  const auto table = decideTable();
  const Decision division = decideFor(*table, "12333320500", "13007501234");
  CHECK(division.region == 320500);
  CHECK(division.region_source == RegionSource::DialledCode);
  CHECK(division.caller.size == 0);  // the caller is not consulted
  CHECK(key(division) == "320500");
  CHECK(division.found.level == Level::City);
  CHECK(candidates(*table, division) == std::vector<std::string>{"js-suzhou", "js-province"});
  CHECK(division.usable == 2);

  const Decision county = decideFor(*table, "12333320506");
  CHECK(county.region == 320506);
  CHECK(key(county) == "320500");

  const Decision area = decideFor(*table, "123330512");
  CHECK(area.region == 320500);
  CHECK(area.region_source == RegionSource::DialledAreaCode);
  CHECK(area.area_code == "0512");
  CHECK(key(area) == "320500");

  const Decision province = decideFor(*table, "12370410100");
  CHECK(key(province) == "410000");
  CHECK(province.found.level == Level::Province);
}

TEST_CASE("decide: rejections name the stage, status and reason", "[decide]") {
  const auto table = decideTable();
  struct Case {
    std::string_view dialled;
    int status;
    DecisionStage stage;
    std::string_view reason;
  };
  const Case cases[] = {
      {"", 484, DecisionStage::Dialled, "malformed number"},
      {"12333abc", 484, DecisionStage::Dialled, "malformed number"},
      {"1233332050", 484, DecisionStage::Dialled, "incomplete number"},
      {"12345", 404, DecisionStage::Dialled, "not a 12333/12370 number"},
      {"12333000000", 404, DecisionStage::Dialled, "unknown division code"},
      {"12333440300", 404, DecisionStage::Region, "unknown division code"},
      {"123330755", 404, DecisionStage::Region, "unknown area code"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.dialled));
    const Decision d = decideFor(*table, c.dialled, "", "0202");
    CHECK_FALSE(d.forward());
    CHECK(d.status == c.status);
    CHECK(d.rejected_at == c.stage);
    CHECK(d.reason == c.reason);
    CHECK_FALSE(d.retry_after);
    CHECK(d.candidates.empty());
    CHECK(d.topic_status == TopicStatus::Valid);  // the topic is still reported
  }

  // Without a default route: a bare number from an unknown caller, and a region with no route.
  sb::core::TableSpec spec = sb::test::decideSpec();
  spec.routes.pop_back();
  spec.trunks.pop_back();
  const sb::core::BuildResult built = sb::core::buildTable(spec, 1);
  REQUIRE(built.table);
  const Decision bare = decideFor(*built.table, "12333", "anonymous");
  CHECK(bare.status == 404);
  CHECK(bare.rejected_at == DecisionStage::Route);
  CHECK(bare.reason == "no caller region and no default route");
  const Decision beijing = decideFor(*built.table, "12333110000");
  CHECK(beijing.status == 404);
  CHECK(beijing.reason == "no route");
}

TEST_CASE("decide: topics pick the topic route; an invalid topic is ignored", "[decide]") {
  const auto table = decideTable();
  const Decision complaint = decideFor(*table, "12333320500", "", "0202");
  CHECK(complaint.topic_status == TopicStatus::Valid);
  CHECK(key(complaint) == "320500/0202");
  CHECK(complaint.found.topic != sb::core::kNoTopic);
  CHECK(candidates(*table, complaint) ==
        std::vector<std::string>{"js-inspection", "js-suzhou", "js-province"});

  // Another Jiangsu city: the province's topic route.
  const Decision nanjing = decideFor(*table, "12333320100", "", "0202");
  CHECK(key(nanjing) == "320000/0202");

  struct Case {
    std::string_view topic;
    TopicStatus status;
    std::string_view text;
    std::string_view key;
  };
  const Case cases[] = {
      {"", TopicStatus::Absent, "", "320500"},
      {" \t", TopicStatus::Absent, "", "320500"},
      {" 0202 ", TopicStatus::Valid, "0202", "320500/0202"},
      {"02", TopicStatus::Valid, "02", "320500"},        // no "02" route: the region's own
      {"9999", TopicStatus::Invalid, "9999", "320500"},  // well formed, not listed
      {"0203", TopicStatus::Invalid, "0203", "320500"},
      {"abc", TopicStatus::Invalid, "abc", "320500"},
      {"02 02", TopicStatus::Invalid, "02 02", "320500"},
      {std::string_view("02\0"
                        "02",
                        5),
       TopicStatus::Invalid,
       std::string_view("02\0"
                        "02",
                        5),
       "320500"},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.topic));
    const Decision d = decideFor(*table, "12333320500", "", c.topic);
    CHECK(d.forward());  // SPEC: an invalid topic never fails the call
    CHECK(d.topic_status == c.status);
    CHECK(d.topic_text == c.text);
    CHECK((d.topic != sb::core::kNoTopic) == (c.status == TopicStatus::Valid));
    CHECK(key(d) == c.key);
  }
}

TEST_CASE("decide: closed trunks are skipped, then the next one takes the call", "[decide]") {
  const auto table = decideTable();
  SECTION("Suzhou closed on Saturday: the province's 7x24 platform") {
    const Decision d = decideFor(*table, "12333320500", "", "", cst("2026-10-03T10:00"));
    CHECK(d.forward());
    CHECK(candidates(*table, d) == std::vector<std::string>{"js-suzhou!closed", "js-province"});
    CHECK(d.usable == 1);
  }
  SECTION("a minute before and after closing") {
    CHECK(candidates(*table, decideFor(*table, "123330512", "", "", cst("2026-09-28T17:29"))) ==
          std::vector<std::string>{"js-suzhou", "js-province"});
    CHECK(candidates(*table, decideFor(*table, "123330512", "", "", cst("2026-09-28T17:31"))) ==
          std::vector<std::string>{"js-suzhou!closed", "js-province"});
  }
  SECTION("a public holiday") {
    const Decision d = decideFor(*table, "12333320500", "", "0202", cst("2026-10-01T10:00"));
    CHECK(candidates(*table, d) ==
          std::vector<std::string>{"js-inspection!closed", "js-suzhou!closed", "js-province"});
  }
  SECTION("everything closed: 503 with Retry-After") {
    const Decision d = decideFor(*table, "12333330100", "", "", cst("2026-09-28T22:00"));
    CHECK_FALSE(d.forward());
    CHECK(d.status == 503);
    CHECK(d.retry_after);
    CHECK(d.rejected_at == DecisionStage::Candidates);
    CHECK(d.reason == "every destination trunk is closed now");
    CHECK(d.usable == 0);
    CHECK(d.candidates.size() == 3);
    for (const auto& c : d.candidates) CHECK(c.skip == SkipReason::Closed);
  }
}

TEST_CASE("decide: live trunk state from the adapter skips trunks too", "[decide]") {
  const auto table = decideTable();
  std::vector<SkipReason> state(table->trunks().size(), SkipReason::None);
  state[table->findTrunk("js-province")->index] = SkipReason::Down;
  state[table->findTrunk("js-suzhou")->index] = SkipReason::Draining;
  DecideInput input;
  input.dialled = "12333320500";
  input.now_unix = kWeekday;
  input.trunk_state = state;
  const Decision d = sb::core::decide(*table, input);
  CHECK(candidates(*table, d) ==
        std::vector<std::string>{"js-suzhou!draining", "js-province!down"});
  CHECK(d.status == 503);
  CHECK(d.retry_after);
  CHECK(d.reason == "no destination trunk available");

  // An operator's state outranks the clock; a short state vector covers only its trunks.
  input.now_unix = cst("2026-10-03T10:00");  // Suzhou closed
  state[table->findTrunk("js-suzhou")->index] = SkipReason::Disabled;
  state[table->findTrunk("js-province")->index] = SkipReason::None;
  CHECK(candidates(*table, sb::core::decide(*table, input)) ==
        std::vector<std::string>{"js-suzhou!disabled", "js-province"});
  const std::vector<SkipReason> one{SkipReason::Full};  // index 0 = js-province
  input.trunk_state = one;
  CHECK(candidates(*table, sb::core::decide(*table, input)) ==
        std::vector<std::string>{"js-suzhou!closed", "js-province!full"});
}

TEST_CASE("decide: candidate order is candidateOrder's for the same seed", "[decide]") {
  const auto table = decideTable();
  const sb::core::Route* route = table->lookup(330100).route;
  REQUIRE(route != nullptr);
  int hangzhou_first = 0;
  Decision d;  // reused across calls, as the daemon may
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    DecideInput input;
    input.dialled = "12333330100";
    input.now_unix = kWeekday;
    input.random = seed;
    sb::core::decide(*table, input, d);
    const std::vector<sb::core::TrunkIndex> expected = sb::core::candidateOrder(*route, seed);
    REQUIRE(d.candidates.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(d.candidates[i].trunk == expected[i]);
    CHECK(d.candidates[2].group == 1);
    if (table->trunks()[d.candidates[0].trunk].name == "zj-hangzhou") ++hangzhou_first;
  }
  CHECK(hangzhou_first / 2000.0 == Approx(0.75).margin(0.04));  // weights 3:1
}
