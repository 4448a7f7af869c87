// Routing tables in Redis: versioned, published atomically, announced on pub/sub. SPEC §5.
// Key schema (documented in README.md), with prefix P (default "sb"):
//   P:tables:seq                 INCR counter handing out version numbers
//   P:tables:current             STRING, the current version number
//   P:tables:v<N>:meta           HASH  published_at, source, publisher, counts
//   P:tables:v<N>:trunks         HASH  trunk name -> JSON object (optional "hours")
//   P:tables:v<N>:routes         HASH  route key  -> JSON array of groups
//   P:tables:v<N>:area_codes     HASH  "0512" -> "320500"
//   P:tables:v<N>:regions        HASH  code -> JSON {name_zh, name_en}
//   P:tables:v<N>:caller_prefixes HASH prefix -> division
//   P:tables:v<N>:topics         HASH  topic code -> JSON {name_zh, name_en} (absent in
//                                versions published before topics: no topics)
//   P:tables:announce            pub/sub channel; message = the new version number
// A version's keys are written first, then `current` is switched inside one MULTI/EXEC,
// so a reader never sees a half-written version. Old versions beyond the newest few are
// deleted by the publisher.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/routing_table.hpp"
#include "core/table_spec.hpp"

namespace sb::redis {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // empty: no AUTH
  std::string prefix = "sb";
};

// Parses "host:port" (or "[v6]:port", or "host" for port 6379). Throws std::invalid_argument.
RedisAddress parseRedisAddress(const std::string& text);

struct PublishResult {
  bool ok = false;
  std::uint64_t version = 0;
  std::string error;
};

// Writes `spec` as a new version, switches current to it atomically, publishes the
// announcement. `source` is recorded in meta (e.g. the directory published).
PublishResult publishTables(const RedisAddress& addr, const core::TableSpec& spec,
                            const std::string& source, int keep_versions = 5);

struct FetchResult {
  bool ok = false;
  std::uint64_t version = 0;  // 0 when no version has been published yet
  core::TableSpec spec;       // SourceLoc.file = "redis:<key>" for errors
  std::string error;
};

// Reads the current version (or a given one) back into a spec.
FetchResult fetchTables(const RedisAddress& addr, std::uint64_t version = 0);

// Runs on its own thread: loads the current version at start, subscribes to the announce
// channel, loads + builds each announced version, and re-checks `current` every
// poll_interval (covers announcements missed while disconnected). Reconnects with backoff
// when Redis is unreachable; the last good table stays in force (the watcher simply does
// not call on_table). Never blocks the caller's threads.
class TableWatcher {
 public:
  struct Callbacks {
    // A new, valid table (called on the watcher thread).
    std::function<void(std::shared_ptr<const core::RoutingTable>)> on_table;
    // A published version failed to load or build: errors formatted "file:line: msg".
    std::function<void(std::uint64_t version, const std::vector<std::string>& errors)>
        on_table_error;
    // Redis reachable or not (called on transitions and at first contact).
    std::function<void(bool up)> on_redis_state;
  };

  TableWatcher(RedisAddress addr, Callbacks callbacks, int poll_interval_ms = 5000,
               int reconnect_ms = 1000);
  ~TableWatcher();  // stops and joins
  TableWatcher(const TableWatcher&) = delete;
  TableWatcher& operator=(const TableWatcher&) = delete;

  void start();
  void stop();
  // Asks the watcher to re-read `current` now (admin "reload"); thread-safe.
  void reloadNow();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::redis
