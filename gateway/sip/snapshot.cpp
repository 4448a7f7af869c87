#include "sip/snapshot.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace sb::sip {

namespace {

// Frees routing snapshots on a thread of its own. Freeing a national table (~154,000 caller
// prefixes, up to 100,000 routes and more) takes 0.1-0.2 s of one core
// (build/tests/load/sb_bench_table); done by whichever thread drops the last reference, it
// stalled the SIP thread right after each swap under load (SIPp retransmissions in
// tests/load/bench_swap.py). Style: the call path never waits.
class Reaper {
 public:
  ~Reaper() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();  // frees what is queued first
  }

  void release(const RoutingSnapshot* snapshot) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_) {
        if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
        queue_.push_back(snapshot);
        snapshot = nullptr;
      }
    }
    if (snapshot == nullptr) {
      wake_.notify_one();
      return;
    }
    delete snapshot;  // at exit: no thread left to hand it to
  }

 private:
  void run() {
    // Freeing a table yields to the SIP thread (nice 10 for this thread only).
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      while (!queue_.empty()) {
        const RoutingSnapshot* snapshot = queue_.back();
        queue_.pop_back();
        lock.unlock();
        delete snapshot;
        malloc_trim(0);  // a national table's ~20 MB back to the system, not kept in the arena
        lock.lock();
      }
      if (stopping_) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<const RoutingSnapshot*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

Reaper& reaper() {
  static Reaper instance;
  return instance;
}

}  // namespace

TrunkTarget parseTarget(const std::string& uri) {
  TrunkTarget t;
  std::string rest;
  if (uri.rfind("sips:", 0) == 0) {
    t.secure = true;
    rest = uri.substr(5);
  } else if (uri.rfind("sip:", 0) == 0) {
    rest = uri.substr(4);
  } else {
    return t;
  }
  std::string params;
  auto semi = rest.find(';');
  if (semi != std::string::npos) {
    params = rest.substr(semi);
    rest = rest.substr(0, semi);
  }
  auto at = rest.find('@');
  if (at != std::string::npos) {
    t.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return t;
    t.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return t;
      t.port = rest.substr(1);
    }
  } else {
    auto colon = rest.find(':');
    t.host = rest.substr(0, colon);
    if (colon != std::string::npos) t.port = rest.substr(colon + 1);
  }
  if (t.host.empty()) return t;
  for (char c : t.port) {
    if (c < '0' || c > '9') return t;
  }
  auto tp = params.find(";transport=");
  if (tp != std::string::npos) {
    auto end = params.find(';', tp + 1);
    t.transport =
        params.substr(tp + 11, end == std::string::npos ? std::string::npos : end - tp - 11);
    for (auto& c : t.transport) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.transport != "udp" && t.transport != "tcp" && t.transport != "tls") return t;
  }
  t.valid = true;
  return t;
}

std::shared_ptr<const RoutingSnapshot> makeSnapshot(std::shared_ptr<const core::RoutingTable> table,
                                                    metrics::Metrics& metrics, double now_unix) {
  // Freed aside by the reaper, never on the thread that drops the last reference.
  std::shared_ptr<RoutingSnapshot> snap(new RoutingSnapshot,
                                        [](const RoutingSnapshot* s) { reaper().release(s); });
  snap->loaded_unix = now_unix;
  for (const auto& trunk : table->trunks()) {
    snap->trunk_metrics.push_back(metrics.trunk(trunk));
    snap->targets.push_back(trunk.targets.empty() ? TrunkTarget{}
                                                  : parseTarget(trunk.targets.front()));
  }
  snap->table = std::move(table);
  return snap;
}

}  // namespace sb::sip
