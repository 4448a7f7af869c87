#include "redis/redis_client.hpp"

#include <poll.h>
#include <sys/time.h>

#include <cerrno>

namespace sb::redis::detail {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

std::vector<const char*> argvOf(const std::vector<std::string>& args,
                                std::vector<std::size_t>& lengths) {
  std::vector<const char*> argv;
  argv.reserve(args.size());
  lengths.clear();
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return argv;
}

std::string typeName(int type) {
  switch (type) {
    case REDIS_REPLY_STRING:
      return "string";
    case REDIS_REPLY_ARRAY:
      return "array";
    case REDIS_REPLY_INTEGER:
      return "integer";
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_STATUS:
      return "status";
    case REDIS_REPLY_ERROR:
      return "error";
    default:
      return "type " + std::to_string(type);
  }
}

}  // namespace

RedisConn::RedisConn(const RedisAddress& addr, std::chrono::milliseconds connect_timeout,
                     std::chrono::milliseconds command_timeout)
    : endpoint_(addr.host + ":" + std::to_string(addr.port)) {
  ctx_ = redisConnectWithTimeout(addr.host.c_str(), addr.port, toTimeval(connect_timeout));
  if (ctx_ == nullptr) throw RedisIoError("redis " + endpoint_ + ": cannot allocate a context");
  try {
    if (ctx_->err != 0) ioFailure("connect");
    if (redisSetTimeout(ctx_, toTimeval(command_timeout)) != REDIS_OK) ioFailure("set timeout");
    // Detects a peer that vanished without closing (a long-lived subscriber would not notice).
    redisEnableKeepAlive(ctx_);
    if (!addr.password.empty()) {
      try {
        command({"AUTH", addr.password});
      } catch (const RedisReplyError& e) {
        // An unusable connection, not a table problem. The password itself is never printed.
        throw RedisIoError("redis " + endpoint_ + ": AUTH failed: " + e.what());
      }
    }
  } catch (...) {
    // The destructor does not run for a throwing constructor.
    redisFree(ctx_);
    ctx_ = nullptr;
    throw;
  }
}

RedisConn::~RedisConn() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

void RedisConn::ioFailure(std::string_view during) {
  std::string message = "redis " + endpoint_ + ": " + std::string(during) + " failed: ";
  if (ctx_ != nullptr && ctx_->err != 0) {
    message += ctx_->errstr;
    if (ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      message += " (timed out)";
    }
  } else {
    message += "connection lost";
  }
  throw RedisIoError(message);
}

Reply RedisConn::checked(Reply reply) {
  if (!reply) ioFailure("command");
  if (reply->type == REDIS_REPLY_ERROR) {
    throw RedisReplyError(std::string(reply->str, reply->len));
  }
  return reply;
}

Reply RedisConn::command(const std::vector<std::string>& args) {
  std::vector<std::size_t> lengths;
  std::vector<const char*> argv = argvOf(args, lengths);
  if (ctx_ == nullptr || ctx_->err != 0) ioFailure(args.empty() ? "command" : args[0]);
  void* raw = redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (raw == nullptr) ioFailure(args.empty() ? "command" : args[0]);
  return checked(Reply(static_cast<redisReply*>(raw)));
}

void RedisConn::append(const std::vector<std::string>& args) {
  std::vector<std::size_t> lengths;
  std::vector<const char*> argv = argvOf(args, lengths);
  if (ctx_ == nullptr || ctx_->err != 0 ||
      redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
          REDIS_OK) {
    ioFailure(args.empty() ? "command" : args[0]);
  }
}

Reply RedisConn::readReply() {
  void* raw = nullptr;
  if (ctx_ == nullptr || redisGetReply(ctx_, &raw) != REDIS_OK) ioFailure("read reply");
  return checked(Reply(static_cast<redisReply*>(raw)));
}

Reply RedisConn::readPushed(std::chrono::milliseconds timeout) {
  void* raw = nullptr;
  if (ctx_ == nullptr || ctx_->err != 0) ioFailure("read");
  // A message may already sit in the reader's buffer from an earlier read.
  if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) ioFailure("read");
  if (raw != nullptr) return checked(Reply(static_cast<redisReply*>(raw)));
  pollfd pfd{};
  pfd.fd = ctx_->fd;
  pfd.events = POLLIN;
  const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0) {
    if (errno == EINTR) return nullptr;
    throw RedisIoError("redis " + endpoint_ + ": poll failed");
  }
  if (ready == 0) return nullptr;
  // Readable, hung up or in error: redisBufferRead reports EOF and errors itself.
  if (redisBufferRead(ctx_) != REDIS_OK) ioFailure("read");
  if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) ioFailure("read");
  if (raw == nullptr) return nullptr;  // a partial message; the rest comes with the next read
  return checked(Reply(static_cast<redisReply*>(raw)));
}

std::optional<std::string> asOptionalString(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_NIL) return std::nullopt;
  if (reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS) {
    return std::string(reply.str, reply.len);
  }
  throw RedisReplyError("expected a string reply, got " + typeName(reply.type));
}

std::int64_t asInteger(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_INTEGER) {
    throw RedisReplyError("expected an integer reply, got " + typeName(reply.type));
  }
  return reply.integer;
}

std::vector<std::pair<std::string, std::string>> asPairs(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements % 2 != 0) {
    throw RedisReplyError("expected an array of field/value pairs, got " + typeName(reply.type));
  }
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(reply.elements / 2);
  for (std::size_t i = 0; i + 1 < reply.elements; i += 2) {
    const redisReply* key = reply.element[i];
    const redisReply* value = reply.element[i + 1];
    if (key->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) {
      throw RedisReplyError("expected string field/value pairs");
    }
    out.emplace_back(std::string(key->str, key->len), std::string(value->str, value->len));
  }
  return out;
}

}  // namespace sb::redis::detail
