// Queries on a built snapshot: hierarchical lookup, known regions, area codes, caller home
// region, trunks by source address. SPEC §3, §4, §9.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/routing_table.hpp"
#include "sample_tables.hpp"

using sb::core::Level;
using sb::core::RegionCode;
using sb::core::RoutingTable;

namespace {

std::shared_ptr<const RoutingTable> sampleTable() {
  const sb::core::BuildResult built = sb::core::buildTable(sb::test::sampleSpec(), 7);
  for (const sb::core::TableError& error : built.errors) UNSCOPED_INFO(formatError(error));
  REQUIRE(built.errors.empty());
  REQUIRE(built.table);
  return built.table;
}

// The first trunk of a route's first group, to tell routes apart.
std::string firstTrunk(const RoutingTable& table, const sb::core::Route* route) {
  if (route == nullptr || route->groups.empty() || route->groups[0].members.empty()) return "";
  return table.trunks()[route->groups[0].members[0].trunk].name;
}

}  // namespace

TEST_CASE("the sample table builds", "[lookup]") {
  const auto table = sampleTable();
  CHECK(table->version() == 7);
  CHECK(table->trunks().size() == 6);
  CHECK(table->routeCount() == 5);
  REQUIRE(table->findTrunk("js-suzhou") != nullptr);
  CHECK(table->findTrunk("js-suzhou")->region == 320500);
  CHECK(table->findTrunk("js-suzhou")->index == 1);
  CHECK(table->findTrunk("nope") == nullptr);
  REQUIRE(table->defaultRoute() != nullptr);
  CHECK(firstTrunk(*table, table->defaultRoute()) == "national");
}

TEST_CASE("lookup goes county -> city -> province -> default", "[lookup]") {
  const auto table = sampleTable();
  struct Case {
    RegionCode code;
    Level level;
    RegionCode matched;
    std::string_view trunk;
  };
  const Case cases[] = {
      {320506, Level::County, 320506, "js-wuzhong"},     // county route
      {320505, Level::City, 320500, "js-suzhou"},        // county without route -> city
      {320500, Level::City, 320500, "js-suzhou"},        // city
      {320100, Level::Province, 320000, "js-province"},  // city without route -> province
      {320102, Level::Province, 320000, "js-province"},  // county, no city route -> province
      {320000, Level::Province, 320000, "js-province"},
      {410100, Level::Province, 410000, "ha-province"},
      {410000, Level::Province, 410000, "ha-province"},
      {440300, Level::Default, 0, "national"},  // no route in Guangdong -> default
      {440000, Level::Default, 0, "national"},
      {110101, Level::Default, 0, "national"},
      {0, Level::Default, 0, "national"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.code);
    const sb::core::LookupResult result = table->lookup(c.code);
    REQUIRE(result.route != nullptr);
    CHECK(result.level == c.level);
    CHECK(result.matched == c.matched);
    CHECK(firstTrunk(*table, result.route) == c.trunk);
  }
}

TEST_CASE("lookup without a default route finds nothing outside the routes", "[lookup]") {
  sb::core::TableSpec spec = sb::test::sampleSpec();
  spec.routes.pop_back();  // the default route
  spec.trunks.pop_back();  // its trunk, which would be unreachable
  const sb::core::BuildResult built = sb::core::buildTable(spec, 1);
  REQUIRE(built.errors.empty());
  const auto& table = *built.table;
  CHECK(table.defaultRoute() == nullptr);
  CHECK(table.routeCount() == 4);

  const sb::core::LookupResult none = table.lookup(440300);
  CHECK(none.route == nullptr);
  CHECK(none.matched == sb::core::kNoRegion);
  const sb::core::LookupResult city = table.lookup(320500);
  CHECK(city.route != nullptr);
  CHECK(city.level == Level::City);
}

TEST_CASE("knownRegion: listed codes, counties of listed cities, unlisted-city provinces",
          "[lookup]") {
  const auto table = sampleTable();
  struct Case {
    RegionCode code;
    bool known;
  };
  const Case cases[] = {
      {320000, true},  // listed province
      {320500, true},  // listed city
      {320506, true},  // county of a listed city
      {320505, true},   {320100, true},  {320102, true},
      {320200, false},                   // Wuxi: Jiangsu lists cities, Wuxi is not one of them
      {320205, false},  {410000, true},  // Henan lists no city: all of Henan is known
      {410100, true},   {410102, true},  {440300, false},  // Guangdong not listed
      {440000, false},  {110000, true},  {110101, true},
      {0, false},       {320012, false},  // not a division code (XX00ZZ)
      {3205000, false},                   // seven digits
  };
  for (const Case& c : cases) {
    CAPTURE(c.code);
    CHECK(table->knownRegion(c.code) == c.known);
  }
}

TEST_CASE("areaCode maps a listed area code to its division", "[lookup]") {
  const auto table = sampleTable();
  struct Case {
    std::string_view area_code;
    std::optional<RegionCode> division;
  };
  const Case cases[] = {
      {"0512", 320500},   {"025", 320100},         {"010", 110000},
      {"0371", 410100},   {"0513", std::nullopt},  {"512", std::nullopt},
      {"", std::nullopt}, {"05120", std::nullopt}, {"051268001234", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.area_code));
    CHECK(table->areaCode(c.area_code) == c.division);
  }
}

TEST_CASE("callerRegion: mobiles by longest prefix, fixed lines by area code", "[lookup]") {
  const auto table = sampleTable();
  struct Case {
    std::string_view number;
    std::optional<RegionCode> region;
  };
  const Case cases[] = {
      {"13905121234", 320500},  // 1390512: the longest prefix wins over 13905
      {"13905991234", 320000},  // only 13905 matches
      {"13703711234", 410100},
      {"13803711234", std::nullopt},  // no prefix
      {"051268001234", 320500},       // 4-digit area code
      {"02583791234", 320100},        // 3-digit area code
      {"01062345678", 110000},
      {"037161234567", 410100},
      {"075512345678", std::nullopt},  // Shenzhen not listed
      {"12333", std::nullopt},         // not a subscriber number
      {"", std::nullopt},
      {"0", std::nullopt},
      {"1390512123a", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.number));
    CHECK(table->callerRegion(c.number) == c.region);
  }
}

TEST_CASE("trunkBySource finds the trunk owning an address", "[lookup]") {
  const auto table = sampleTable();
  struct Case {
    std::string_view ip;
    std::string_view trunk;  // "" = none
  };
  const Case cases[] = {
      {"10.0.2.1", "js-suzhou"},
      {"10.0.2.2", "js-suzhou-b"},
      {"2001:db8::21", "js-suzhou"},
      {"2001:DB8:0:0::21", "js-suzhou"},  // same address, other spelling
      {"::ffff:10.0.2.1", "js-suzhou"},   // IPv4 peer on a dual-stack socket
      {"2001:db8::31", "js-wuzhong"},
      {"10.0.2.3", ""},
      {"10.0.2.1 ", ""},
      {"", ""},
      {"::1", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.ip));
    const sb::core::Trunk* trunk = table->trunkBySource(c.ip);
    CHECK((trunk == nullptr ? std::string_view{} : std::string_view(trunk->name)) == c.trunk);
  }
}
