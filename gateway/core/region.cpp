// Division codes (GB/T 2260). SPEC §3.
#include "core/region.hpp"

namespace sb::core {

std::optional<RegionCode> parseRegionCode(std::string_view digits) {
  if (digits.size() != 6) return std::nullopt;
  RegionCode code = 0;
  for (const char c : digits) {
    // Only ASCII digits: a NUL, sign or space must never turn into a routable code.
    if (c < '0' || c > '9') return std::nullopt;
    code = code * 10 + static_cast<RegionCode>(c - '0');
  }
  // GB/T 2260: the province part is 11..65 (66 for the XPCC by convention); 00..10 never
  // name a province, so a code starting with them is a typo, not a region.
  const RegionCode province = code / 10000;
  if (province < 11) return std::nullopt;
  // GB/T 2260: every county sits under a city part (directly administered county-level
  // units use 90, e.g. 419001), so XX00ZZ with ZZ != 00 does not exist.
  if ((code / 100) % 100 == 0 && code % 100 != 0) return std::nullopt;
  return code;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::County:
      return "county";
    case Level::City:
      return "city";
    case Level::Province:
      return "province";
    case Level::Default:
      return "default";
  }
  return "default";
}

}  // namespace sb::core
