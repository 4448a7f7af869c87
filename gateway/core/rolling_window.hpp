// Per-trunk call figures over the last 15 minutes for the duty room's status page (issue 5
// item 5: answer ratio and answered-within-20 s ratio). One-minute buckets in a ring; time
// passed in. Pure, std only.
#pragma once

#include <array>
#include <cstdint>

namespace sb::core {

struct WindowTotals {
  std::uint64_t offered = 0;  // attempts that ended (answered or not)
  std::uint64_t answered = 0;
  std::uint64_t answered_20s = 0;  // context.md: the ministry scores answers within 20 s
};

class RollingWindow {
 public:
  static constexpr int kMinutes = 15;

  void add(std::int64_t now_s, bool answered, bool within_20s) {
    Bucket& b = bucketFor(now_s);
    ++b.totals.offered;
    if (answered) ++b.totals.answered;
    if (answered && within_20s) ++b.totals.answered_20s;
  }

  WindowTotals totals(std::int64_t now_s) const {
    WindowTotals out;
    std::int64_t minute = now_s / 60;
    for (const auto& b : buckets_) {
      if (b.minute > minute - kMinutes && b.minute <= minute) {
        out.offered += b.totals.offered;
        out.answered += b.totals.answered;
        out.answered_20s += b.totals.answered_20s;
      }
    }
    return out;
  }

 private:
  struct Bucket {
    std::int64_t minute = -1;
    WindowTotals totals;
  };
  Bucket& bucketFor(std::int64_t now_s) {
    std::int64_t minute = now_s / 60;
    Bucket& b = buckets_[static_cast<std::size_t>(((minute % kMinutes) + kMinutes) % kMinutes)];
    if (b.minute != minute) b = Bucket{minute, {}};
    return b;
  }
  std::array<Bucket, kMinutes> buckets_{};
};

}  // namespace sb::core
