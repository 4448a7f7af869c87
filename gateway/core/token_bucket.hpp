// A token bucket (rate + burst) with time passed in: the per-source flood limit and the
// per-trunk calls-per-second limit. Pure, std only; not thread-safe (one owner thread).
#pragma once

#include <algorithm>
#include <cstdint>

namespace sb::core {

class TokenBucket {
 public:
  TokenBucket() = default;
  // `rate` tokens per second, at most `burst` stored; starts full.
  TokenBucket(double rate, double burst, std::int64_t now_ms)
      : rate_per_ms_(rate / 1000.0), burst_(burst), tokens_(burst), last_ms_(now_ms) {}

  // Takes one token if there is one.
  bool take(std::int64_t now_ms) {
    refill(now_ms);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // Full again: nothing taken for a while (the owner may forget such buckets).
  bool idle(std::int64_t now_ms) {
    refill(now_ms);
    return tokens_ >= burst_;
  }

 private:
  void refill(std::int64_t now_ms) {
    if (now_ms > last_ms_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_ms_);
      last_ms_ = now_ms;
    }
  }

  double rate_per_ms_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  std::int64_t last_ms_ = 0;
};

}  // namespace sb::core
