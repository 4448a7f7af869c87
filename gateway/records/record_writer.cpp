// RecordWriter: one thread, one blocking hiredis connection with timeouts (the SIP thread
// never touches it), the shared reconnect loop of gateway/redis.
#include "records/record_writer.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "log/log.hpp"
#include "records/jsonl_file.hpp"
#include "redis/reconnect.hpp"
#include "redis/redis_client.hpp"

namespace sb::records {
namespace {

constexpr std::chrono::milliseconds kConnectTimeout{1000};
constexpr std::chrono::milliseconds kCommandTimeout{2000};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
// Lines waiting for the file: the file is local and fast, so this only fills when the disk
// is in trouble; then a record already in Redis is simply not in the file.
constexpr std::size_t kMinFileQueue = 10000;

log::RateLimit g_log_limit(2);

}  // namespace

struct RecordWriter::Impl {
  struct FileLine {
    std::string json;
    bool spilled = false;  // only here: counts as spilled once written, dropped otherwise
  };

  WriterConfig cfg;
  std::string key;
  std::string maxlen;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::string> redis_queue;  // guarded by mutex
  std::deque<FileLine> file_queue;      // guarded by mutex
  std::size_t inflight = 0;             // taken from redis_queue, being sent; guarded
  bool stop_requested = false;          // guarded
  bool stopped = false;                 // guarded: the thread is gone, push() drops
  WriterStats stats;                    // guarded (queue_depth computed on read)

  std::thread thread;
  // Owned by the writer thread (or by stop() when it never started).
  std::unique_ptr<JsonLinesFile> file;
  redis::Backoff backoff;

  explicit Impl(WriterConfig c)
      : cfg(std::move(c)),
        key(cfg.redis.prefix + ":records"),
        maxlen(std::to_string(cfg.stream_maxlen)),
        backoff(cfg.reconnect, std::max(cfg.reconnect, kMaxBackoff)) {
    const std::string& path = cfg.file.empty() ? cfg.spill_file : cfg.file;
    if (!path.empty())
      file = std::make_unique<JsonLinesFile>(path, cfg.file_max_bytes, cfg.file_keep);
  }

  bool hasFile() const { return file != nullptr; }
  bool allToFile() const { return !cfg.file.empty(); }
  std::size_t fileCap() const { return std::max(cfg.queue_max, kMinFileQueue); }

  void push(std::string json) {
    {
      std::lock_guard lock(mutex);
      if (stopped) {
        ++stats.dropped;
        return;
      }
      const bool redis_room = cfg.redis_enabled && redis_queue.size() + inflight < cfg.queue_max;
      const bool file_room = hasFile() && file_queue.size() < fileCap();
      if (allToFile()) {
        // Every record goes to the file; one that finds no room in the queue is only there.
        if (file_room) {
          file_queue.push_back({redis_room ? json : std::move(json), !redis_room});
        } else if (!redis_room) {
          ++stats.dropped;
        }
        if (redis_room) redis_queue.push_back(std::move(json));
      } else if (redis_room) {
        redis_queue.push_back(std::move(json));
      } else if (file_room) {
        file_queue.push_back({std::move(json), true});
      } else {
        ++stats.dropped;
      }
    }
    wake.notify_one();
  }

  bool stopping() {
    std::lock_guard lock(mutex);
    return stop_requested;
  }

  // Writes what waits for the file (writer thread, no lock held during I/O).
  void writeFileQueue() {
    std::deque<FileLine> lines;
    {
      std::lock_guard lock(mutex);
      lines.swap(file_queue);
    }
    if (lines.empty()) return;
    std::uint64_t written = 0, spilled = 0, lost = 0;
    for (const FileLine& line : lines) {
      if (file->write(line.json)) {
        ++written;
        if (line.spilled) ++spilled;
      } else if (line.spilled) {
        ++lost;
      }
    }
    if (!file->flush() || lost > 0) {
      if (g_log_limit.admit() >= 0) {
        SB_LOG(log::Level::Error, log::Line("records_file_error").kv("error", file->error()));
      }
    }
    std::lock_guard lock(mutex);
    stats.file_written += written;
    stats.spilled += spilled;
    stats.dropped += lost;
  }

  // One pipelined round trip of up to `batch` XADDs. Records not acknowledged go back to
  // the front of the queue, in order, before the trouble is thrown on.
  void sendBatch(redis::detail::RedisConn& conn) {
    std::vector<std::string> batch;
    {
      std::lock_guard lock(mutex);
      const std::size_t n = std::min(cfg.batch, redis_queue.size());
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(redis_queue.front()));
        redis_queue.pop_front();
      }
      inflight = n;
    }
    if (batch.empty()) return;
    std::vector<bool> acked(batch.size(), false);
    std::size_t appended = 0;
    std::optional<std::string> failure;
    try {
      for (std::string& json : batch) {
        std::vector<std::string> args{"XADD", key, "MAXLEN", "~",
                                      maxlen, "*", "rec",    std::move(json)};
        try {
          conn.append(args);
        } catch (...) {
          json = std::move(args.back());
          throw;
        }
        json = std::move(args.back());
        ++appended;
      }
      for (std::size_t i = 0; i < appended; ++i) {
        try {
          conn.readReply();
          acked[i] = true;
        } catch (const redis::detail::RedisReplyError& e) {
          // Keep reading so the connection stays in step; the record stays queued.
          if (!failure) failure = e.what();
        }
      }
    } catch (const std::exception& e) {
      if (!failure) failure = e.what();
      requeue(batch, acked);
      throw;
    }
    requeue(batch, acked);
    if (failure) throw redis::detail::RedisReplyError(*failure);
  }

  void requeue(std::vector<std::string>& batch, const std::vector<bool>& acked) {
    std::lock_guard lock(mutex);
    std::uint64_t ok = 0;
    for (std::size_t i = batch.size(); i-- > 0;) {
      if (acked[i]) {
        ++ok;
      } else {
        redis_queue.push_front(std::move(batch[i]));
      }
    }
    stats.redis_written += ok;
    inflight = 0;
  }

  void setRedisUp(bool up) {
    bool changed = false;
    {
      std::lock_guard lock(mutex);
      changed = stats.redis_up != up;
      stats.redis_up = up;
    }
    if (changed) {
      SB_LOG(up ? log::Level::Info : log::Level::Warn,
             log::Line("records_redis").kv("up", up ? 1 : 0).kv("stream", key));
    }
  }

  bool hasWork() const { return stop_requested || !redis_queue.empty() || !file_queue.empty(); }

  // Without Redis: the file sink alone, until stopped.
  void fileOnly() {
    for (;;) {
      bool stop = false;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [this] { return hasWork(); });
        stop = stop_requested;
      }
      if (hasFile()) writeFileQueue();
      if (stop) return;
    }
  }

  // One connected session; returns when stopping, throws on Redis trouble.
  void session() {
    redis::detail::RedisConn conn(cfg.redis, kConnectTimeout, kCommandTimeout);
    setRedisUp(true);
    for (;;) {
      bool stop = false;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [this] { return hasWork(); });
        stop = stop_requested;
      }
      if (hasFile()) writeFileQueue();
      if (stop) return;
      sendBatch(conn);
      backoff.reset();  // a batch went through: the next trouble starts the backoff again
    }
  }

  // At stop: what is still queued gets flush_timeout to reach Redis (on a new connection:
  // the thread may have been between two attempts).
  void finalFlush() {
    const auto deadline = std::chrono::steady_clock::now() + cfg.flush_timeout;
    auto left = [&deadline] {
      return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()),
                      std::chrono::milliseconds(1));
    };
    {
      std::lock_guard lock(mutex);
      if (redis_queue.empty()) return;
    }
    try {
      redis::detail::RedisConn conn(cfg.redis, std::min(kConnectTimeout, left()),
                                    std::min(kCommandTimeout, left()));
      while (std::chrono::steady_clock::now() < deadline) {
        {
          std::lock_guard lock(mutex);
          if (redis_queue.empty()) return;
        }
        sendBatch(conn);
      }
    } catch (const std::exception&) {
      // Unreachable: the rest spills.
    }
  }

  // Backoff between reconnects; the file keeps being written meanwhile.
  bool pause(std::chrono::milliseconds delay) {
    const auto deadline = std::chrono::steady_clock::now() + delay;
    for (;;) {
      bool file_work = false;
      {
        std::unique_lock lock(mutex);
        wake.wait_until(lock, deadline, [this] { return stop_requested || !file_queue.empty(); });
        if (stop_requested) return false;
        file_work = !file_queue.empty();
      }
      if (file_work && hasFile()) writeFileQueue();
      if (std::chrono::steady_clock::now() >= deadline) return true;
    }
  }

  // After the thread's loop: what never reached Redis goes to the file (or is counted lost).
  void spillRest() {
    std::deque<std::string> rest;
    {
      std::lock_guard lock(mutex);
      stopped = true;
      rest.swap(redis_queue);
      for (std::string& json : rest) {
        if (allToFile()) {
          ++stats.spilled;  // its line is in the file already (queued there on push)
        } else if (hasFile()) {
          file_queue.push_back({std::move(json), true});
        } else {
          ++stats.dropped;
        }
      }
    }
    if (hasFile()) writeFileQueue();
    if (!rest.empty()) {
      SB_LOG(log::Level::Warn, log::Line("records_spilled_at_stop").kv("records", rest.size()));
    }
  }

  void run() {
    if (!cfg.redis_enabled) {
      fileOnly();
    } else {
      redis::reconnectLoop(
          backoff, [this] { return stopping(); }, [this] { session(); },
          [this] { setRedisUp(false); },
          [this](std::chrono::milliseconds delay) { return pause(delay); });
      finalFlush();
    }
    spillRest();
  }
};

RecordWriter::RecordWriter(WriterConfig config)
    : impl_(std::make_unique<Impl>(std::move(config))) {}

RecordWriter::~RecordWriter() { stop(); }

void RecordWriter::start() {
  if (impl_->thread.joinable()) return;
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

void RecordWriter::push(std::string json) { impl_->push(std::move(json)); }

void RecordWriter::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stop_requested = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  } else {
    impl_->spillRest();  // never started
  }
}

WriterStats RecordWriter::stats() const {
  std::lock_guard lock(impl_->mutex);
  WriterStats s = impl_->stats;
  s.queue_depth = impl_->redis_queue.size() + impl_->inflight;
  return s;
}

std::string RecordWriter::streamKey() const { return impl_->key; }

}  // namespace sb::records
