// XRANGE paging over P:records (docs/call-records.md).
#include "redis/record_stream_reader.hpp"

#include <charconv>
#include <chrono>

#include "redis/redis_client.hpp"

namespace sb::redis {
namespace {

using detail::RedisConn;
using detail::RedisReplyError;
using detail::Reply;

constexpr std::chrono::milliseconds kConnectTimeout{2000};
constexpr std::chrono::milliseconds kCommandTimeout{10000};

struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
};

std::optional<StreamId> parseStreamId(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  StreamId out;
  const char* end = id.data() + dash;
  if (auto [p, ec] = std::from_chars(id.data(), end, out.ms); ec != std::errc() || p != end) {
    return std::nullopt;
  }
  const char* seq_end = id.data() + id.size();
  if (auto [p, ec] = std::from_chars(end + 1, seq_end, out.seq);
      ec != std::errc() || p != seq_end) {
    return std::nullopt;
  }
  return out;
}

// The smallest ID after `id` (exclusive ranges "(" need Redis 6.2; this works everywhere).
std::string nextId(const StreamId& id) {
  if (id.seq == UINT64_MAX) return std::to_string(id.ms + 1) + "-0";
  return std::to_string(id.ms) + "-" + std::to_string(id.seq + 1);
}

std::string text(const redisReply* r) {
  if (r == nullptr || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)) {
    throw RedisReplyError("unexpected XRANGE reply: an entry's ID or field is not a string");
  }
  return std::string(r->str, r->len);
}

// One XRANGE entry: [id, [field, value, ...]].
void deliver(
    const redisReply& entry,
    const std::function<void(const std::string&, const std::optional<std::string>&)>& on_entry,
    std::string& last_id) {
  if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2) {
    throw RedisReplyError("unexpected XRANGE reply: an entry is not [id, fields]");
  }
  last_id = text(entry.element[0]);
  const redisReply* fields = entry.element[1];
  std::optional<std::string> rec;
  if (fields != nullptr && fields->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i + 1 < fields->elements; i += 2) {
      if (text(fields->element[i]) == "rec") {
        rec = text(fields->element[i + 1]);
        break;
      }
    }
  }
  on_entry(last_id, rec);
}

}  // namespace

std::string recordStreamKey(const std::string& prefix) { return prefix + ":records"; }

StreamReadResult readRecordStream(
    const RedisAddress& addr, std::int64_t start_ms,
    const std::function<void(const std::string& id, const std::optional<std::string>& rec)>&
        on_entry,
    std::size_t page) {
  StreamReadResult result;
  const std::string key = recordStreamKey(addr.prefix);
  try {
    RedisConn conn(addr, kConnectTimeout, kCommandTimeout);
    // The oldest entry: tells whether MAXLEN trimmed away part of the period.
    const Reply first = conn.command({"XRANGE", key, "-", "+", "COUNT", "1"});
    if (first->type != REDIS_REPLY_ARRAY) throw RedisReplyError("unexpected XRANGE reply");
    if (first->elements == 0) {
      result.ok = true;
      return result;
    }
    const redisReply* oldest = first->element[0];
    if (oldest->type != REDIS_REPLY_ARRAY || oldest->elements < 1) {
      throw RedisReplyError("unexpected XRANGE reply: an entry is not [id, fields]");
    }
    result.first_id = text(oldest->element[0]);
    if (const auto id = parseStreamId(result.first_id)) {
      result.first_ms = static_cast<std::int64_t>(id->ms);
    }

    std::string start = std::to_string(start_ms < 0 ? 0 : start_ms) + "-0";
    const std::string count = std::to_string(page == 0 ? 1 : page);
    // Bounded: every page moves the start past its last entry; a short page is the end.
    while (true) {
      const Reply reply = conn.command({"XRANGE", key, start, "+", "COUNT", count});
      if (reply->type != REDIS_REPLY_ARRAY) throw RedisReplyError("unexpected XRANGE reply");
      std::string last_id;
      for (std::size_t i = 0; i < reply->elements; ++i) {
        deliver(*reply->element[i], on_entry, last_id);
        ++result.entries;
      }
      if (reply->elements < (page == 0 ? 1 : page)) break;
      const std::optional<StreamId> last = parseStreamId(last_id);
      if (!last) throw RedisReplyError("unexpected stream entry ID '" + last_id + "'");
      start = nextId(*last);
    }
    result.ok = true;
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

}  // namespace sb::redis
