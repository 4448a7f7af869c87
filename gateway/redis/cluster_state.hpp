// Cluster-wide trunk state shared by every gateway instance through one Redis: the operator's
// admin states (issue 5 item 2: all instances agree, a restart keeps them) and the calls each
// instance holds per trunk, so capacity limits hold across instances (issue 5 item 3, SPEC §4).
//
// Key schema (documented in README.md), with prefix P (default "sb"):
//   P:trunks:admin        HASH   trunk name -> "enabled" | "draining" | "disabled"
//                                (absent = enabled; setAdminState(Enabled) deletes the field)
//   P:instances:<id>      STRING heartbeat of one live instance: its last heartbeat time
//                                (Unix ms), written with PX <lease_ms> every interval
//   P:trunks:inuse        HASH   "<trunk>|<instance id>" -> calls that instance holds on that
//                                trunk (decimal; only non-zero counts are stored)
//
// Polling, on purpose: every interval (default 250 ms) the ClusterState thread runs one round:
//   1. pipelined: SET P:instances:<id> PX lease; HSET its own inuse fields (the whole latest
//      map from setLocalCalls); HGETALL P:trunks:admin; HGETALL P:trunks:inuse;
//   2. SCAN MATCH P:instances:* for the live instances (Redis hides expired keys);
//   3. one HDEL of its own fields that are no longer current and of the fields of instances
//      with no live heartbeat (opportunistic: any live instance cleans up after a dead one).
// Readers ignore inuse fields whose instance has no live heartbeat key, so an instance that
// crashes (kill -9) stops counting at most one lease after its last heartbeat: a lease per
// instance, not per call. The inuse hash is read before the SCAN: an instance's field is only
// visible after its heartbeat, so a live instance's fields are never taken for a dead one's.
// A graceful stop() deletes the instance's heartbeat and fields at once.
//
// The SIP thread never waits on Redis (style.md): it hands its counts over with
// setLocalCalls() (a short mutex, no I/O) and receives the cluster's picture by message from
// on_update. Between two rounds two instances may both take a trunk's last slot; the interval
// bounds that window.
//
// Redis trouble: every command has a short timeout (so stop() stays prompt). A round that
// fails in any way (unreachable, timed out, an error reply such as WRONGTYPE on one of the
// keys above) reports on_redis_state(false), delivers nothing (the adapter keeps the last
// known state) and reconnects with backoff (from the interval, doubling, up to 2 s). While
// disconnected this instance's heartbeat lapses after one lease: the others stop counting its
// calls, as they would for a crashed instance; the first round after reconnecting writes
// everything again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/admission.hpp"
#include "redis/table_store.hpp"

namespace sb::redis {

// "<hostname>-<pid>-<6 random hex digits>"; characters outside [A-Za-z0-9._-] in the host
// name become '_' (so an id never contains '|', the inuse field separator).
std::string makeInstanceId();

class ClusterState {
 public:
  // The cluster as one round saw it. A trunk absent from `admin` is Enabled.
  struct Update {
    std::unordered_map<std::string, core::AdminState> admin;
    // Per trunk, the calls the OTHER live instances hold (trunks with none are absent).
    std::unordered_map<std::string, std::uint32_t> calls_elsewhere;
    // Instances with a live heartbeat, this one included.
    std::size_t live_instances = 0;
    bool operator==(const Update&) const = default;
  };

  struct Callbacks {
    // On the ClusterState thread, after a round whose picture differs from the last one
    // delivered, and after the first round of every connection (first contact, reconnect).
    std::function<void(const Update&)> on_update;
    // On the ClusterState thread: at first contact or first failure, then on transitions.
    std::function<void(bool up)> on_redis_state;
  };

  // `instance_id`: unique per running process (makeInstanceId()); non-empty, without '|'.
  // `lease_ms`: how long this instance's calls count after its last heartbeat; must exceed
  // two intervals. Throws std::invalid_argument.
  ClusterState(RedisAddress addr, std::string instance_id, Callbacks callbacks,
               int interval_ms = 250, int lease_ms = 15000);
  ~ClusterState();  // stop()
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  void start();
  // Ends the thread; when connected, first deletes this instance's heartbeat and inuse fields
  // (one pipelined round trip). Returns within one command timeout (300 ms) plus that round
  // trip. Not from a callback's thread (returns without joining there).
  void stop();
  // Ends the thread like a crash (kill -9): the heartbeat and fields stay until the lease
  // expires. For tests.
  void abandon();

  // The calls this instance holds per trunk; the latest map wins and is written whole by the
  // next round. Thread-safe, no I/O: the SIP thread calls it when counts change or once per
  // interval. Zero counts may be included or left out.
  void setLocalCalls(std::unordered_map<std::string, std::uint32_t> by_trunk);

  const std::string& instanceId() const;

  // For the admin API and the CLI (blocking, with timeouts; never on the SIP thread).
  // Enabled deletes the trunk's field (absent = enabled). False with `error` on failure.
  static bool setAdminState(const RedisAddress& addr, const std::string& trunk,
                            core::AdminState state, std::string& error);
  // All admin states in Redis (values that are not a known state are left out: enabled).
  // nullopt with `error` on failure.
  static std::optional<std::unordered_map<std::string, core::AdminState>> readAdminStates(
      const RedisAddress& addr, std::string& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sb::redis
