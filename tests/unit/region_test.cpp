// Division codes (GB/T 2260) and level names. SPEC §3.
#include <optional>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/region.hpp"

using sb::core::Level;
using sb::core::parseRegionCode;
using sb::core::RegionCode;

TEST_CASE("parseRegionCode accepts six-digit division codes and nothing else", "[region]") {
  using namespace std::string_view_literals;
  struct Case {
    std::string_view text;
    std::optional<RegionCode> expected;
  };
  const Case cases[] = {
      {"320500", 320500},  // Suzhou, a city
      {"320000", 320000},  // Jiangsu, a province
      {"320506", 320506},  // Wuzhong, a county under Suzhou
      {"110101", 110101},  // Beijing Dongcheng
      {"419001", 419001},  // Jiyuan: county-level, directly administered (city part 90)
      {"110000", 110000},  // lowest province part
      {"660000", 660000},  // XPCC by convention
      {"990000", 990000},  // province part 11..99 is structurally valid
      {"000000", std::nullopt},  {"100000", std::nullopt},  // province part 10
      {"010100", std::nullopt},                             // leading zero: province part 01
      {"320001", std::nullopt},                             // XX00ZZ: a county without a city
      {"320099", std::nullopt},  {"32050", std::nullopt},   // five digits
      {"3205000", std::nullopt},                            // seven digits
      {"", std::nullopt},        {"32050a", std::nullopt},    {"+32050", std::nullopt},
      {"32 500", std::nullopt},  {"32050\0"sv, std::nullopt},  // embedded NUL
      {"3205\t0", std::nullopt}, {"-32050", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(std::string(c.text));
    CHECK(parseRegionCode(c.text) == c.expected);
  }
}

TEST_CASE("code arithmetic finds city and province", "[region]") {
  STATIC_REQUIRE(sb::core::cityOf(320506) == 320500);
  STATIC_REQUIRE(sb::core::provinceOf(320506) == 320000);
  STATIC_REQUIRE(sb::core::isCountyCode(320506));
  STATIC_REQUIRE(sb::core::isCityCode(320500));
  STATIC_REQUIRE(sb::core::isProvinceCode(320000));
  STATIC_REQUIRE(!sb::core::isCityCode(320000));
}

TEST_CASE("levelName gives the metric/log label of each level", "[region]") {
  CHECK(sb::core::levelName(Level::County) == "county");
  CHECK(sb::core::levelName(Level::City) == "city");
  CHECK(sb::core::levelName(Level::Province) == "province");
  CHECK(sb::core::levelName(Level::Default) == "default");
}
