// The record writer (SPEC §6, docs/call-records.md): call records go from the SIP thread to
// a bounded in-memory queue, and from there, on the writer's own thread and connection, to
// the Redis Stream P:records (XADD ... MAXLEN ~ N, several records per round trip) and,
// optionally, to a JSON-lines file rotated by size.
//
// push() never blocks on I/O: a short mutex, a deque, a notify. When Redis is unreachable
// (or slow) records wait in the queue, up to queue_max; beyond that they spill to the file
// (`file`, or `spill_file` when no `file` is configured; with `file` every record is there
// already). A record that can go nowhere is counted as dropped. stop() flushes the queue to
// Redis for at most flush_timeout, then spills what is left.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "redis/table_store.hpp"

namespace sb::records {

struct WriterConfig {
  redis::RedisAddress redis;  // the stream is <prefix>:records
  bool redis_enabled = true;
  std::uint64_t stream_maxlen = 1000000;  // XADD MAXLEN ~
  std::size_t queue_max = 100000;         // records waiting for Redis
  std::size_t batch = 256;                // XADDs per round trip
  std::string file;                       // every record, as JSON lines ("" = none)
  std::string spill_file;                 // overflow only, when `file` is empty
  std::uint64_t file_max_bytes = 100ull << 20;
  std::uint32_t file_keep = 5;
  std::chrono::milliseconds flush_timeout{2000};
  std::chrono::milliseconds reconnect{500};
};

struct WriterStats {
  std::uint64_t redis_written = 0;  // records in the stream
  std::uint64_t file_written = 0;   // record lines written to a file (spilled included)
  std::uint64_t spilled = 0;        // to the file because the queue was full (or at stop)
  std::uint64_t dropped = 0;        // could go nowhere
  std::size_t queue_depth = 0;      // waiting for Redis
  bool redis_up = false;
};

class RecordWriter {
 public:
  explicit RecordWriter(WriterConfig config);
  ~RecordWriter();  // stop()
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void start();
  // One record (a JSON object without newline). Any thread; no I/O.
  void push(std::string json);
  // Flushes (bounded by flush_timeout), spills the rest, ends the thread. Records pushed
  // afterwards are dropped (counted).
  void stop();

  WriterStats stats() const;
  std::string streamKey() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::records
