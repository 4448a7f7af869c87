// Structured logging: one line per event, key=value pairs, to stderr (journald picks it
// up). Per-packet events go through RateLimit so a flood cannot flood the log too.
#pragma once

#include <atomic>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace sb::log {

enum class Level : int { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void setLevel(Level level);
// Text put before every line's fields, e.g. "worker=1 " in a worker process (sip.workers).
// Set once at start-up, before other threads start.
void setProcessTag(std::string_view tag);
bool parseLevel(std::string_view text, Level& out);
bool enabled(Level level);
void write(Level level, std::string_view fields);

// Allows at most `per_second` events per second for one call site; counts what it drops
// and reports the number with the next allowed line.
class RateLimit {
 public:
  explicit RateLimit(std::uint32_t per_second) : per_second_(per_second) {}
  // Returns the number of suppressed events to report (>= 0) or -1 when this one is dropped.
  std::int64_t admit();

 private:
  std::uint32_t per_second_;
  std::atomic<std::int64_t> window_{0};
  std::atomic<std::uint32_t> count_{0};
  std::atomic<std::int64_t> dropped_{0};
};

// Builds "k=v k2=v2"; values with spaces or quotes are quoted.
class Line {
 public:
  explicit Line(std::string_view event) { out_ << "event=" << event; }
  template <typename T>
  Line& kv(std::string_view key, const T& value) {
    out_ << ' ' << key << '=';
    std::ostringstream v;
    v << value;
    quoteInto(v.str());
    return *this;
  }
  std::string str() const { return out_.str(); }

 private:
  void quoteInto(const std::string& value);
  std::ostringstream out_;
};

// Masks a caller number for info-level logs (context.md: never log full caller numbers):
// keeps the first 7 digits of a mobile / the area code of a fixed line.
std::string maskNumber(std::string_view number);

}  // namespace sb::log

#define SB_LOG(level, line)                                               \
  do {                                                                    \
    if (::sb::log::enabled(level)) ::sb::log::write(level, (line).str()); \
  } while (0)
