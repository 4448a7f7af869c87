// One call record (SPEC §6, docs/call-records.md schema version 1): what the SIP thread
// keeps about a call while it runs, and the JSON it becomes when the call ends. Small on
// purpose (issue 7 measures memory per call): codes and timestamps, a few short strings;
// the JSON is built only once, at the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/region.hpp"
#include "core/routing_table.hpp"

namespace sb::records {

// docs/call-records.md "One definition of the result".
enum class Result : std::uint8_t { Answered, Abandoned, Failed, kCount };

enum class FailReason : std::uint8_t {
  None,  // answered or abandoned
  Acl,
  RateLimit,
  Malformed,
  NoRoute,
  Loop,
  MaxForwards,
  Unsupported,
  Capacity,
  Unavailable,  // every trunk of the route down, closed or full
  Busy,         // 486 / 600 from the trunks
  Rejected,     // another 4xx/5xx/6xx from the trunks
  Timeout,      // 408, no answer within Timer C, failover exhausted by timeouts
  Shutdown,     // refused while draining
  kCount
};

enum class EndReason : std::uint8_t {
  CallerBye,
  CalleeBye,
  CallerCancel,
  TrunkFinal,
  RingTimeout,
  MaxDuration,
  Shutdown,
  Rejected,
  kCount
};

// The outcome of one tried destination trunk ("skipped" is never written).
enum class AttemptResult : std::uint8_t { Answered, Busy, Failed, Timeout, Cancelled, kCount };

struct Attempt {
  std::string trunk;
  std::uint16_t code = 0;  // SIP final code, 0 when none
  AttemptResult result = AttemptResult::Failed;
};

struct CallRecord {
  std::string call_id;
  std::string source;   // source IP address of the INVITE
  std::string origin;   // origin trunk name, "" when the source is unknown
  std::string dialled;  // Request-URI user part as received, cut to kMaxDialled
  std::string caller;   // already masked (maskCaller)
  std::string topic;    // topic code passed on, "" when none
  core::RegionCode region = core::kNoRegion;  // kNoRegion: not routed
  bool routed = false;                        // level is meaningful
  core::Level level = core::Level::Default;
  std::vector<Attempt> attempts;
  std::int64_t t_invite = 0;  // Unix ms
  std::int64_t t_ring = 0;
  std::int64_t t_answer = 0;
  std::int64_t t_end = 0;
  int code = 0;  // final SIP code sent to the caller
  Result result = Result::Failed;
  FailReason fail_reason = FailReason::None;
  EndReason end_reason = EndReason::Rejected;
};

constexpr std::size_t kMaxDialled = 32;
constexpr std::size_t kCallerDigitsKept = 7;
constexpr int kSchemaVersion = 1;

// docs/call-records.md: the caller number masked to a prefix. The number is normalised
// (no +86/0086), anything but digits is dropped, the first 7 digits are kept and the rest
// become '*': "+8613912345678" -> "1391234****". "" for an absent or withheld number and for
// anything that is no national number (core::nationalNumber).
std::string maskCaller(std::string_view raw);

// The Request-URI user part as stored: cut to kMaxDialled bytes.
std::string dialledText(std::string_view user);

std::string_view resultName(Result r);
std::string_view failReasonName(FailReason r);  // "" for None
std::string_view endReasonName(EndReason r);
std::string_view attemptResultName(AttemptResult r);

// The record as one line of JSON (no newline inside or at the end).
std::string encode(const CallRecord& record, std::string_view instance);

}  // namespace sb::records
