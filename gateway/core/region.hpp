// Division codes (GB/T 2260) and lookup levels: the vocabulary of routing. Pure, std only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sb::core {

// A 6-digit GB/T 2260 division code held as an integer: 320500 = Suzhou, Jiangsu.
// The XPCC uses the conventional 66xxxx, which is not part of GB/T 2260.
using RegionCode = std::uint32_t;

constexpr RegionCode kNoRegion = 0;

constexpr RegionCode cityOf(RegionCode code) { return code / 100 * 100; }
constexpr RegionCode provinceOf(RegionCode code) { return code / 10000 * 10000; }
constexpr bool isProvinceCode(RegionCode code) { return code % 10000 == 0; }
constexpr bool isCityCode(RegionCode code) { return code % 100 == 0 && !isProvinceCode(code); }
constexpr bool isCountyCode(RegionCode code) { return code % 100 != 0; }

// Parses exactly six ASCII digits ("320500") into a code; anything else is nullopt.
// Structural rules: province part 11..99, and a county part under city part 00 is invalid.
std::optional<RegionCode> parseRegionCode(std::string_view digits);

// SPEC §3: lookup is hierarchical, most specific first.
enum class Level : std::uint8_t { County = 0, City = 1, Province = 2, Default = 3 };
constexpr std::size_t kLevelCount = 4;

std::string_view levelName(Level level);  // "county", "city", "province", "default"

}  // namespace sb::core
