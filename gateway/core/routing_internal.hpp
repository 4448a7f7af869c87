// Shared by the routing table's build (routing_table.cpp), its queries (routing_queries.cpp)
// and the decision (decide.cpp). Internal to gateway/core.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/region.hpp"
#include "core/topic.hpp"

namespace sb::core::detail {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool allDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), isDigit);
}

// A structurally valid code as parseRegionCode would accept it; guards lookups given a
// RegionCode that never went through the parser.
inline bool isWellFormedCode(RegionCode code) {
  return code <= 999999 && code / 10000 >= 11 && !((code / 100) % 100 == 0 && code % 100 != 0);
}

inline Level levelOfKey(RegionCode key) {
  if (isCountyCode(key)) return Level::County;
  if (isCityCode(key)) return Level::City;
  return Level::Province;
}

// SPEC §3: mobile prefixes are at most 7 digits ("1390512"); fixed lines go by area code.
constexpr std::size_t kMaxCallerPrefix = 7;

// Flags kept per code in RoutingTable::regions_.
constexpr std::uint8_t kListed = 1;   // the code itself is a listed region
constexpr std::uint8_t kHasCity = 2;  // (province entries) some city of it is listed

// Key of RoutingTable::topic_routes_.
inline std::uint64_t topicRouteKey(RegionCode region, TopicCode topic) {
  return static_cast<std::uint64_t>(region) << 16 | topic;
}

// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator with no global state,
// so one injected seed fixes the whole order (style: randomness comes in as an argument).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// SPEC §4: inside a group trunks share load by weight. Orders [first, last) in place: each
// pick is drawn with probability weight / remaining weight, without replacement; the rest
// keep their listed order. Only zero weights left (buildTable forbids them; a hand-made
// Route may not): they stay last, in listed order. No allocation.
template <typename It, typename WeightOf>
void weightedOrder(It first, It last, SplitMix64& rng, WeightOf weight_of) {
  for (; first != last; ++first) {
    std::uint64_t remaining = 0;
    for (It it = first; it != last; ++it) remaining += weight_of(*it);
    if (remaining == 0) return;
    // Modulo bias is below 2^-32 for any realistic total weight.
    std::uint64_t draw = rng.next() % remaining;
    It pick = first;
    while (draw >= weight_of(*pick)) {
      draw -= weight_of(*pick);
      ++pick;
    }
    std::rotate(first, pick, pick + 1);  // the pick first, the others in their order
  }
}

}  // namespace sb::core::detail
