// Topic codes (SPEC §3, context.md "Topic codes").
#include "core/topic.hpp"

namespace sb::core {

std::optional<TopicCode> parseTopicCode(std::string_view text) {
  if (text.size() != 2 && text.size() != 4) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    // Only ASCII digits: a header value with a NUL or a sign must never become a topic.
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (text.size() == 2) {
    if (value == 0) return std::nullopt;
    return static_cast<TopicCode>(kFirstLevelTopic + value);
  }
  if (value / 100 == 0 || value % 100 == 0) return std::nullopt;
  return static_cast<TopicCode>(value);
}

TopicText topicText(TopicCode topic) {
  TopicText out;
  if (topic == kNoTopic) return out;
  unsigned value = isFirstLevelTopic(topic) ? topic - kFirstLevelTopic : topic;
  out.size = isFirstLevelTopic(topic) ? 2 : 4;
  for (int i = out.size - 1; i >= 0; --i) {
    out.digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out;
}

}  // namespace sb::core
