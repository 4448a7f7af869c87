// ClusterState (issue 5 items 2 and 3; key schema and design in cluster_state.hpp): one
// thread, one blocking connection with short timeouts, one polling round per interval.
#include "redis/cluster_state.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "redis/reconnect.hpp"
#include "redis/redis_client.hpp"

namespace sb::redis {
namespace {

using detail::RedisConn;
using detail::Reply;

// Connect and command timeout of the ClusterState thread. Short so stop() stays prompt: a
// Redis that takes longer than this for a few small commands counts as unreachable (the
// lease, 15 s by default, rides out several such rounds before others stop counting us).
constexpr std::chrono::milliseconds kIoTimeout{300};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
// For setAdminState / readAdminStates (admin API, CLI): people wait, not calls.
constexpr std::chrono::milliseconds kToolConnectTimeout{2000};
constexpr std::chrono::milliseconds kToolCommandTimeout{5000};
constexpr std::size_t kScanCount = 1000;
constexpr char kFieldSeparator = '|';

struct ClusterKeys {
  std::string prefix;
  std::string admin() const { return prefix + ":trunks:admin"; }
  std::string inuse() const { return prefix + ":trunks:inuse"; }
  std::string instancePrefix() const { return prefix + ":instances:"; }
  std::string instance(const std::string& id) const { return instancePrefix() + id; }
  // SCAN MATCH pattern: the prefix is literal, so glob characters in it are escaped.
  std::string instancePattern() const {
    std::string out;
    for (const char c : instancePrefix()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
      out += c;
    }
    return out + "*";
  }
};

std::string inuseField(const std::string& trunk, const std::string& instance) {
  return trunk + kFieldSeparator + instance;
}

// "<trunk>|<instance>" split at the last '|' (instance ids never contain one).
std::optional<std::pair<std::string, std::string>> splitField(const std::string& field) {
  const std::size_t bar = field.rfind(kFieldSeparator);
  if (bar == std::string::npos || bar == 0 || bar + 1 == field.size()) return std::nullopt;
  return std::pair{field.substr(0, bar), field.substr(bar + 1)};
}

std::optional<std::uint32_t> parseCount(const std::string& text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::unordered_map<std::string, core::AdminState> adminStatesOf(const redisReply& reply) {
  std::unordered_map<std::string, core::AdminState> out;
  for (auto& [trunk, value] : detail::asPairs(reply)) {
    // Anything else (a typo written by hand) reads as absent, i.e. enabled.
    if (const auto state = core::parseAdminState(value)) out.emplace(std::move(trunk), *state);
  }
  return out;
}

std::int64_t unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads `count` pipelined replies, all of them even after an error reply (the connection
// stays in step), then throws the first error.
std::vector<Reply> readReplies(RedisConn& conn, std::size_t count) {
  std::vector<Reply> replies;
  std::optional<std::string> first_error;
  for (std::size_t i = 0; i < count; ++i) {
    try {
      replies.push_back(conn.readReply());
    } catch (const detail::RedisReplyError& e) {
      if (!first_error) first_error = e.what();
      replies.push_back(nullptr);
    }
  }
  if (first_error) throw detail::RedisReplyError(*first_error);
  return replies;
}

}  // namespace

std::string makeInstanceId() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "unknown");
  }
  std::string name(host);
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", static_cast<unsigned>(rd() & 0xffffffu));
  return name + "-" + std::to_string(getpid()) + "-" + suffix;
}

struct ClusterState::Impl {
  RedisAddress addr;
  std::string id;
  Callbacks callbacks;
  std::chrono::milliseconds interval;
  int lease_ms;
  ClusterKeys keys;

  std::thread thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop_requested = false;  // guarded by mutex
  bool cleanup_on_stop = true;  // guarded by mutex
  // The latest counts from setLocalCalls; guarded by mutex.
  std::unordered_map<std::string, std::uint32_t> local_calls;

  // Owned by the ClusterState thread.
  std::optional<bool> redis_up;
  std::optional<Update> delivered;
  std::unordered_set<std::string> own_fields;  // the inuse fields the last round wrote

  Impl(RedisAddress a, std::string instance_id, Callbacks c, int interval_ms, int lease)
      : addr(std::move(a)),
        id(std::move(instance_id)),
        callbacks(std::move(c)),
        interval(interval_ms),
        lease_ms(lease),
        keys{addr.prefix} {}

  bool stopping() {
    std::lock_guard lock(mutex);
    return stop_requested;
  }

  // Sleeps up to `duration`; wakes early for stop(). False when stopping.
  bool pause(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, duration, [this] { return stop_requested; });
    return !stop_requested;
  }

  // Callbacks belong to the daemon; one that throws must not end the thread.
  template <typename F>
  static void guarded(F&& f) {
    try {
      f();
    } catch (...) {
    }
  }

  void setRedisUp(bool up) {
    if (redis_up == up) return;
    redis_up = up;
    if (callbacks.on_redis_state) guarded([&] { callbacks.on_redis_state(up); });
  }

  std::unordered_map<std::string, std::uint32_t> localCalls() {
    std::lock_guard lock(mutex);
    return local_calls;
  }

  // One polling round (see the header). Throws on any Redis trouble.
  Update round(RedisConn& conn) {
    const std::unordered_map<std::string, std::uint32_t> calls = localCalls();
    std::unordered_set<std::string> current_fields;

    // 1. Heartbeat, own counts, then read admin states and all counts.
    std::size_t pending = 0;
    conn.append(
        {"SET", keys.instance(id), std::to_string(unixMillis()), "PX", std::to_string(lease_ms)});
    ++pending;
    std::vector<std::string> hset{"HSET", keys.inuse()};
    for (const auto& [trunk, count] : calls) {
      if (count == 0 || trunk.empty()) continue;
      std::string field = inuseField(trunk, id);
      hset.push_back(field);
      hset.push_back(std::to_string(count));
      current_fields.insert(std::move(field));
    }
    if (hset.size() > 2) {
      conn.append(hset);
      ++pending;
    }
    conn.append({"HGETALL", keys.admin()});
    conn.append({"HGETALL", keys.inuse()});
    pending += 2;
    const std::vector<Reply> replies = readReplies(conn, pending);
    own_fields = current_fields;

    Update update;
    update.admin = adminStatesOf(*replies[pending - 2]);
    const auto inuse = detail::asPairs(*replies[pending - 1]);

    // 2. Live instances, after the counts were read (see the header).
    std::unordered_set<std::string> live{id};
    std::string cursor = "0";
    do {
      const Reply reply = conn.command(
          {"SCAN", cursor, "MATCH", keys.instancePattern(), "COUNT", std::to_string(kScanCount)});
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[1]->type != REDIS_REPLY_ARRAY) {
        throw detail::RedisReplyError("unexpected SCAN reply");
      }
      cursor = detail::asOptionalString(*reply->element[0]).value_or("0");
      const redisReply& found = *reply->element[1];
      const std::string instance_prefix = keys.instancePrefix();
      for (std::size_t i = 0; i < found.elements; ++i) {
        const std::optional<std::string> key = detail::asOptionalString(*found.element[i]);
        if (key && key->size() > instance_prefix.size() && key->starts_with(instance_prefix)) {
          live.insert(key->substr(instance_prefix.size()));
        }
      }
    } while (cursor != "0");
    update.live_instances = live.size();

    // 3. Sum the others' counts; collect own stale fields and dead instances' fields.
    std::vector<std::string> hdel{"HDEL", keys.inuse()};
    std::unordered_map<std::string, std::uint64_t> sums;
    for (const auto& [field, value] : inuse) {
      const auto parts = splitField(field);
      if (!parts) continue;  // not ours to judge: written by something else
      const auto& [trunk, instance] = *parts;
      if (instance == id) {
        if (!current_fields.contains(field)) hdel.push_back(field);
        continue;
      }
      if (!live.contains(instance)) {
        hdel.push_back(field);
        continue;
      }
      if (const auto count = parseCount(value); count && *count > 0) sums[trunk] += *count;
    }
    for (const auto& [trunk, sum] : sums) {
      update.calls_elsewhere.emplace(trunk, static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                                sum, std::numeric_limits<std::uint32_t>::max())));
    }
    if (hdel.size() > 2) conn.command(hdel);
    return update;
  }

  // Graceful stop: others stop counting this instance at once instead of after the lease.
  void cleanup(RedisConn& conn) {
    try {
      conn.append({"DEL", keys.instance(id)});
      std::size_t pending = 1;
      if (!own_fields.empty()) {
        std::vector<std::string> hdel{"HDEL", keys.inuse()};
        hdel.insert(hdel.end(), own_fields.begin(), own_fields.end());
        conn.append(hdel);
        ++pending;
      }
      readReplies(conn, pending);
      own_fields.clear();
    } catch (const std::exception&) {
      // The lease expires by itself.
    }
  }

  // One connected session: returns when stopping; throws on Redis trouble.
  void session() {
    RedisConn conn(addr, kIoTimeout, kIoTimeout);
    bool first = true;
    for (;;) {
      Update update = round(conn);
      setRedisUp(true);
      if (first || update != delivered) {
        delivered = update;
        if (callbacks.on_update) guarded([&] { callbacks.on_update(*delivered); });
      }
      first = false;
      if (!pause(interval)) {
        bool cleanup_wanted = false;
        {
          std::lock_guard lock(mutex);
          cleanup_wanted = cleanup_on_stop;
        }
        if (cleanup_wanted) cleanup(conn);
        return;
      }
    }
  }

  void run() {
    // Unreachable, timed out, refused AUTH or an error reply: report, retry with backoff.
    Backoff backoff(interval, std::max(interval, kMaxBackoff));
    reconnectLoop(
        backoff, [this] { return stopping(); }, [this] { session(); },
        [this] { setRedisUp(false); }, [this](std::chrono::milliseconds d) { return pause(d); });
  }

  void halt(bool cleanup) {
    {
      std::lock_guard lock(mutex);
      stop_requested = true;
      cleanup_on_stop = cleanup;
    }
    wake.notify_all();
    // From a callback (the ClusterState thread) the loop ends when the callback returns;
    // joining here would deadlock.
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }
};

ClusterState::ClusterState(RedisAddress addr, std::string instance_id, Callbacks callbacks,
                           int interval_ms, int lease_ms) {
  if (instance_id.empty() || instance_id.find(kFieldSeparator) != std::string::npos) {
    throw std::invalid_argument("cluster state: instance id must be non-empty, without '|'");
  }
  if (interval_ms < 1) throw std::invalid_argument("cluster state: interval must be positive");
  if (lease_ms <= 2 * interval_ms) {
    throw std::invalid_argument("cluster state: the lease must exceed two intervals");
  }
  impl_ = std::make_unique<Impl>(std::move(addr), std::move(instance_id), std::move(callbacks),
                                 interval_ms, lease_ms);
}

ClusterState::~ClusterState() { stop(); }

void ClusterState::start() {
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = false;
    impl_->cleanup_on_stop = true;
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void ClusterState::stop() { impl_->halt(true); }

void ClusterState::abandon() { impl_->halt(false); }

void ClusterState::setLocalCalls(std::unordered_map<std::string, std::uint32_t> by_trunk) {
  std::unordered_map<std::string, std::uint32_t> old;
  {
    std::lock_guard lock(impl_->mutex);
    old.swap(impl_->local_calls);
    impl_->local_calls = std::move(by_trunk);
  }
  // `old` is freed here, outside the lock.
}

const std::string& ClusterState::instanceId() const { return impl_->id; }

bool ClusterState::setAdminState(const RedisAddress& addr, const std::string& trunk,
                                 core::AdminState state, std::string& error) {
  if (trunk.empty()) {
    error = "empty trunk name";
    return false;
  }
  const ClusterKeys keys{addr.prefix};
  try {
    RedisConn conn(addr, kToolConnectTimeout, kToolCommandTimeout);
    if (state == core::AdminState::Enabled) {
      conn.command({"HDEL", keys.admin(), trunk});  // absent = enabled
    } else {
      conn.command({"HSET", keys.admin(), trunk, std::string(core::adminStateName(state))});
    }
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::optional<std::unordered_map<std::string, core::AdminState>> ClusterState::readAdminStates(
    const RedisAddress& addr, std::string& error) {
  const ClusterKeys keys{addr.prefix};
  try {
    RedisConn conn(addr, kToolConnectTimeout, kToolCommandTimeout);
    return adminStatesOf(*conn.command({"HGETALL", keys.admin()}));
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace sb::redis
