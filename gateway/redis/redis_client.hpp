// A blocking hiredis connection with timeouts on connect and on every command, so nothing
// in the table tools or the watcher can hang on a silent Redis. Internal to gateway/redis:
// hiredis types stay inside this adapter (style.md).
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redis/table_store.hpp"

namespace sb::redis::detail {

// The connection failed (refused, timed out, closed, protocol error, AUTH refused). The
// context is unusable afterwards: drop it and connect again.
class RedisIoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Redis answered a command with an error reply (-ERR, -WRONGTYPE, -NOAUTH ...).
class RedisReplyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  bool wrongType() const { return std::string_view(what()).starts_with("WRONGTYPE"); }
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConn {
 public:
  // Connects and authenticates (when addr.password is set). Throws RedisIoError.
  RedisConn(const RedisAddress& addr, std::chrono::milliseconds connect_timeout,
            std::chrono::milliseconds command_timeout);
  ~RedisConn();
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;

  // Sends one command and waits for its reply. Error replies throw RedisReplyError, I/O
  // trouble RedisIoError.
  Reply command(const std::vector<std::string>& args);

  // Pipelining: queue commands, then collect their replies in order. Every appended
  // command must have its reply read before the next command() call.
  void append(const std::vector<std::string>& args);
  Reply readReply();  // throws like command(); an error reply is returned as RedisReplyError

  // For a subscriber: waits up to `timeout` for one pushed message. nullptr on timeout.
  Reply readPushed(std::chrono::milliseconds timeout);

  const std::string& endpoint() const { return endpoint_; }

 private:
  [[noreturn]] void ioFailure(std::string_view during);
  Reply checked(Reply reply);

  redisContext* ctx_ = nullptr;
  std::string endpoint_;
};

// Reply accessors; throw RedisReplyError on an unexpected type.
std::optional<std::string> asOptionalString(const redisReply& reply);  // nil -> nullopt
std::int64_t asInteger(const redisReply& reply);
// HGETALL / array of strings in pairs.
std::vector<std::pair<std::string, std::string>> asPairs(const redisReply& reply);

}  // namespace sb::redis::detail
