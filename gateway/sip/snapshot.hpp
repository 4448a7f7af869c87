// What the SIP thread routes with: the immutable routing table plus, per trunk, its metric
// handles and its parsed target. Built aside (on the table watcher's thread), handed to
// the SIP thread whole, kept alive by every call that started on it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/routing_table.hpp"
#include "metrics/metrics.hpp"

namespace sb::sip {

struct TrunkTarget {
  bool valid = false;
  std::string user;       // user part of the target URI, empty: keep the dialled number
  std::string host;       // without brackets
  std::string port;       // empty: default
  std::string transport;  // "udp", "tcp" or empty
  bool secure = false;    // sips:
};

// Parses "sip:[user@]host[:port][;transport=x][;...]". Unknown parameters are ignored.
TrunkTarget parseTarget(const std::string& uri);

struct RoutingSnapshot {
  std::shared_ptr<const core::RoutingTable> table;
  std::vector<metrics::TrunkHandles*> trunk_metrics;  // by TrunkIndex
  std::vector<TrunkTarget> targets;                   // by TrunkIndex, first target
  double loaded_unix = 0;
};

// The snapshot is freed on a thread of its own when its last reference goes (a table of
// national size takes 0.1-0.2 s to free: never a stall of the SIP thread).
std::shared_ptr<const RoutingSnapshot> makeSnapshot(std::shared_ptr<const core::RoutingTable> table,
                                                    metrics::Metrics& metrics, double now_unix);

}  // namespace sb::sip
