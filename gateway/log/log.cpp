#include "log/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace sb::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_write_mutex;

const char* levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
  }
  return "info";
}
}  // namespace

void setLevel(Level level) { g_level.store(static_cast<int>(level)); }

namespace {
std::string g_process_tag;  // set once at start-up, before any other thread
}  // namespace

void setProcessTag(std::string_view tag) { g_process_tag = tag; }

bool parseLevel(std::string_view text, Level& out) {
  if (text == "debug")
    out = Level::Debug;
  else if (text == "info")
    out = Level::Info;
  else if (text == "warn")
    out = Level::Warn;
  else if (text == "error")
    out = Level::Error;
  else
    return false;
  return true;
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view fields) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fprintf(stderr, "ts=%s level=%s %s%.*s\n", ts, levelName(level), g_process_tag.c_str(),
               static_cast<int>(fields.size()), fields.data());
  std::fflush(stderr);
}

std::int64_t RateLimit::admit() {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  if (window_.exchange(now) != now) count_.store(0);
  if (count_.fetch_add(1) >= per_second_) {
    dropped_.fetch_add(1);
    return -1;
  }
  return dropped_.exchange(0);
}

void Line::quoteInto(const std::string& value) {
  bool needs = value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) needs = true;
  }
  if (!needs) {
    out_ << value;
    return;
  }
  out_ << '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out_ << '\\' << c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out_ << '?';
    } else {
      out_ << c;
    }
  }
  out_ << '"';
}

std::string maskNumber(std::string_view number) {
  if (number.empty()) return "-";
  std::size_t keep = number.front() == '0' ? 4 : 7;
  if (number.size() <= keep) keep = number.size() / 2;
  std::string out(number.substr(0, keep));
  out.append(number.size() - keep, '*');
  return out;
}

}  // namespace sb::log
