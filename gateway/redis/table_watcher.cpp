// TableWatcher (SPEC §5): keeps the gateway's tables in step with Redis. Its own thread owns
// two blocking connections: a subscriber on the announce channel, read in short slices so
// stop() is prompt, and a command connection that loads versions. Redis trouble only
// changes the reported state: the last good table stays in force with its owner.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/routing_table.hpp"
#include "redis/reconnect.hpp"
#include "redis/redis_client.hpp"
#include "redis/table_codec.hpp"
#include "redis/table_store.hpp"

namespace sb::redis {
namespace {

using detail::RedisConn;
using detail::Reply;
using detail::TableKeys;

// The subscriber is read in slices this long; stop() waits at most about one slice.
constexpr std::chrono::milliseconds kReadSlice{100};
constexpr std::chrono::milliseconds kConnectTimeout{1000};
constexpr std::chrono::milliseconds kCommandTimeout{5000};
constexpr std::chrono::milliseconds kMaxBackoff{30000};

// One publication: numbers can repeat after Redis lost its data, publication ids do not.
struct Publication {
  std::uint64_t version = 0;
  std::string id;
  bool operator==(const Publication&) const = default;
};

bool isMessage(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ARRAY && reply.elements == 3 &&
         reply.element[0]->type == REDIS_REPLY_STRING &&
         std::string_view(reply.element[0]->str, reply.element[0]->len) == "message";
}

}  // namespace

struct TableWatcher::Impl {
  RedisAddress addr;
  Callbacks callbacks;
  std::chrono::milliseconds poll_interval;
  std::chrono::milliseconds reconnect;
  TableKeys keys;

  std::thread thread;
  std::mutex mutex;
  std::condition_variable wake;
  bool stop_requested = false;  // guarded by mutex
  std::atomic<bool> reload_requested{false};

  // Owned by the watcher thread.
  std::optional<bool> redis_up;
  std::optional<Publication> delivered;  // the table in force
  std::optional<Publication> failed;     // last version reported bad, not reported again

  Impl(RedisAddress a, Callbacks c, int poll_ms, int reconnect_ms)
      : addr(std::move(a)),
        callbacks(std::move(c)),
        poll_interval(std::max(poll_ms, 1)),
        reconnect(std::max(reconnect_ms, 1)),
        keys(addr.prefix) {}

  bool stopping() {
    std::lock_guard lock(mutex);
    return stop_requested;
  }

  // Sleeps up to `duration`; wakes early for stop() or reloadNow(). False when stopping.
  bool pause(std::chrono::milliseconds duration) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, duration, [this] { return stop_requested || reload_requested.load(); });
    return !stop_requested;
  }

  // Callbacks belong to the daemon; one that throws must not end the watcher.
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

  void reportBad(const Publication& p, const std::vector<core::TableError>& errors) {
    failed = p;
    std::vector<std::string> lines;
    lines.reserve(errors.size());
    for (const core::TableError& e : errors) lines.push_back(core::formatError(e));
    if (callbacks.on_table_error) guarded([&] { callbacks.on_table_error(p.version, lines); });
  }

  // Reads `current`; loads and builds it when it is a publication not seen before. After a
  // delivery the memory of the fetch and build (replies, spec: tens of MB for the national
  // table, freed by then) goes back to the system instead of staying in this thread's arena.
  void check(RedisConn& conn) {
    if (load(conn)) malloc_trim(0);
  }

  bool load(RedisConn& conn) {
    std::optional<std::string> current;
    try {
      current = detail::asOptionalString(*conn.command({"GET", keys.current()}));
    } catch (const detail::RedisReplyError& e) {
      if (!e.wrongType()) throw;
      const Publication bad{0, "(not a string)"};
      if (bad != failed) {
        reportBad(bad, {core::TableError{core::SourceLoc{"redis:" + keys.current(), 0},
                                         "not a string holding a version number"}});
      }
      return false;
    }
    if (!current) return false;  // nothing published (or Redis lost its data): keep what we have
    Publication seen;
    if (const auto version = detail::parseVersion(*current)) {
      seen.version = *version;
      try {
        seen.id =
            detail::asOptionalString(
                *conn.command({"HGET", keys.version(*version, detail::kMetaPart), "publication"}))
                .value_or("");
      } catch (const detail::RedisReplyError& e) {
        // A meta key of the wrong type is bad data, reported by the fetch below.
        if (!e.wrongType()) throw;
      }
    } else {
      seen.id = *current;  // garbage in `current`: reported once, as version 0
    }
    if (seen == delivered || seen == failed) return false;

    // Version 0 (garbage in `current`) makes fetchVersion re-read `current` and report it.
    detail::Fetched fetched = detail::fetchVersion(conn, keys, seen.version);
    if (fetched.status == detail::FetchStatus::NoVersion) return false;  // deleted in between
    if (fetched.version != 0) {
      seen = Publication{fetched.version, fetched.metaValue("publication")};
      if (seen == delivered) return false;  // `current` moved back in between
    }
    if (fetched.status != detail::FetchStatus::Ok) {
      reportBad(seen, fetched.errors);
      return false;
    }
    core::BuildResult built = core::buildTable(fetched.spec, seen.version);
    if (!built.errors.empty() || !built.table) {
      reportBad(seen, built.errors);
      return false;
    }
    delivered = seen;
    if (callbacks.on_table) guarded([&] { callbacks.on_table(built.table); });
    return true;
  }

  // One connected session: returns when stopping; throws on Redis trouble.
  void session() {
    RedisConn subscriber(addr, kConnectTimeout, kCommandTimeout);
    RedisConn conn(addr, kConnectTimeout, kCommandTimeout);
    // Subscribe before the first check, so nothing published in between is missed.
    subscriber.command({"SUBSCRIBE", keys.announce()});
    setRedisUp(true);
    reload_requested = false;
    check(conn);
    auto next_check = std::chrono::steady_clock::now() + poll_interval;
    while (!stopping()) {
      const Reply pushed = subscriber.readPushed(kReadSlice);
      bool due = pushed && isMessage(*pushed);  // any announcement: re-read `current`
      due = reload_requested.exchange(false) || due;
      due = due || std::chrono::steady_clock::now() >= next_check;
      if (due) {
        check(conn);
        next_check = std::chrono::steady_clock::now() + poll_interval;
      }
    }
  }

  void run() {
    // Loading and building a table (1-2 s of CPU for a national one with 100,000 routes)
    // must yield to the SIP thread: on a busy machine a swap cost SIPp retransmissions
    // (tests/load/bench_swap.py). Nice 10 for this thread only (Linux: per-thread nice).
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    // Redis unreachable, refused AUTH, or answered nonsense: report, retry with backoff.
    Backoff backoff(reconnect, std::max(reconnect, std::min(reconnect * 16, kMaxBackoff)));
    reconnectLoop(
        backoff, [this] { return stopping(); }, [this] { session(); },
        [this] { setRedisUp(false); },
        [this](std::chrono::milliseconds delay) {
          // A reconnect attempt ends the backoff early when a reload is asked for.
          if (!pause(delay)) return false;
          reload_requested = false;  // the reconnect that follows reads `current` anyway
          return true;
        });
  }
};

TableWatcher::TableWatcher(RedisAddress addr, Callbacks callbacks, int poll_interval_ms,
                           int reconnect_ms)
    : impl_(std::make_unique<Impl>(std::move(addr), std::move(callbacks), poll_interval_ms,
                                   reconnect_ms)) {}

TableWatcher::~TableWatcher() { stop(); }

void TableWatcher::start() {
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = false;
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void TableWatcher::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stop_requested = true;
  }
  impl_->wake.notify_all();
  // From a callback (the watcher's own thread) the loop ends when the callback returns;
  // joining here would deadlock.
  if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) {
    impl_->thread.join();
  }
}

void TableWatcher::reloadNow() {
  {
    // Under the mutex so a pause() between its predicate check and its wait cannot miss it.
    std::lock_guard lock(impl_->mutex);
    impl_->reload_requested = true;
  }
  impl_->wake.notify_all();
}

}  // namespace sb::redis
