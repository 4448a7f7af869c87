// The one reconnect loop of the Redis threads (table watcher, cluster state, record writer):
// run a connected session until it ends normally; when it throws (unreachable, timed out,
// refused AUTH, an error reply), report and wait with a doubling backoff, then try again.
#pragma once

#include <algorithm>
#include <chrono>
#include <exception>

namespace sb::redis {

// Doubling delay between reconnect attempts: initial, 2x, 4x ... up to `cap`.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap)
      : initial_(std::max(initial, std::chrono::milliseconds(1))),
        cap_(std::max(cap, initial_)),
        current_(initial_) {}

  // The delay to wait now; the next one doubles.
  std::chrono::milliseconds next() {
    std::chrono::milliseconds delay = current_;
    current_ = std::min(current_ * 2, cap_);
    return delay;
  }
  // After a session that worked: the next failure waits the initial delay again.
  void reset() { current_ = initial_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds cap_;
  std::chrono::milliseconds current_;
};

// `session()`: one connected session; returns when the thread is stopping, throws on Redis
// trouble. `on_failure()`: report the connection down (called after each failed session).
// `pause(delay)`: wait up to `delay`, false when the thread is stopping. `stopping()`: true
// when the thread should end. Returns when stopping.
template <typename Stopping, typename Session, typename OnFailure, typename Pause>
void reconnectLoop(Backoff& backoff, Stopping&& stopping, Session&& session, OnFailure&& on_failure,
                   Pause&& pause) {
  while (!stopping()) {
    try {
      session();
      return;  // stopping
    } catch (const std::exception&) {
      on_failure();
    }
    if (!pause(backoff.next())) return;
  }
}

}  // namespace sb::redis
