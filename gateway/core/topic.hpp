// Topic codes: the ministry's two-level classification of HRSS public-service information
// (人社信息函[2010]52号; context.md, routing-tables/reference/topic-codes.tsv), carried by a call
// in `X-12333-Topic`. SPEC §3. Pure, std only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sb::core {

// A topic code held as a small integer, so lookups use integer keys: a second-level code
// "0202" is 202, a first-level code "02" is kFirstLevelTopic + 2 = 10002. The two never
// collide, and a first-level code is recovered from a second-level one by arithmetic.
using TopicCode = std::uint16_t;

constexpr TopicCode kNoTopic = 0;
constexpr TopicCode kFirstLevelTopic = 10000;

constexpr bool isFirstLevelTopic(TopicCode topic) { return topic > kFirstLevelTopic; }
// "0202" -> "02"; a first-level code is its own first level; kNoTopic stays kNoTopic.
constexpr TopicCode firstLevelOf(TopicCode topic) {
  if (topic == kNoTopic || isFirstLevelTopic(topic)) return topic;
  return static_cast<TopicCode>(kFirstLevelTopic + topic / 100);
}

// Exactly 2 or 4 ASCII digits: "02" (first level) or "0202" (second level). The first level
// 00 and the second-level part 00 ("0200") are no codes (the classification numbers both
// levels from 01). Anything else, including signs and spaces, is nullopt. Whether the code is
// listed is the routing table's business (RoutingTable::topic).
std::optional<TopicCode> parseTopicCode(std::string_view text);

// The code as written: "02" or "0202"; "" for kNoTopic. Static-free: the text lives in the
// returned value.
struct TopicText {
  std::array<char, 4> digits{};
  std::uint8_t size = 0;
  std::string_view view() const { return {digits.data(), size}; }
};
TopicText topicText(TopicCode topic);

}  // namespace sb::core
