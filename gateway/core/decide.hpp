// The routing decision for one new call: dialled number -> region -> route -> candidates,
// the stages of the daemon's pipeline (style.md "a named pipeline") as one pure function, so
// the SIP adapter and `switchboardctl route explain` (and the admin API's dry-run) run the
// same code. SPEC §3-§4. Pure: time, randomness and live trunk state come in as arguments.
//
// Cost on the call path: no allocation beyond the candidate vector (none at all when the
// caller reuses a Decision whose vector has capacity); the string_views point into the
// input and the routing table, so a Decision is valid while both are.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/dialled.hpp"
#include "core/region.hpp"
#include "core/routing_table.hpp"
#include "core/topic.hpp"

namespace sb::core {

// Where the region came from.
enum class RegionSource : std::uint8_t {
  None,             // no region: the default route (bare number, unknown or withheld caller)
  DialledCode,      // 12333 + division code: 12333320500
  DialledAreaCode,  // 12333 + area code: 123330512
  CallerMobile,     // bare 12333: the caller's mobile prefix
  CallerAreaCode,   // bare 12333: the caller's fixed-line area code
};
// "none", "dialled_code", "dialled_area_code", "caller_mobile", "caller_area_code".
std::string_view regionSourceName(RegionSource source);

enum class TopicStatus : std::uint8_t {
  Absent,   // no X-12333-Topic (or an empty one)
  Valid,    // a listed topic: used for the lookup and passed on
  Invalid,  // present but not a listed topic: ignored, never fails the call (counted)
};
std::string_view topicStatusName(TopicStatus status);  // "absent", "valid", "invalid"

// Why a candidate trunk is not tried (SPEC §4: "a down, disabled, draining, closed or full
// trunk is skipped"). Closed comes from the trunk's opening hours; the others are live state
// the adapter passes in (DecideInput::trunk_state).
enum class SkipReason : std::uint8_t { None, Closed, Down, Disabled, Draining, Full };
std::string_view skipReasonName(SkipReason reason);  // "", "closed", "down", ...

// The stage that rejected the call (for the log line and the `reason` metric label).
enum class DecisionStage : std::uint8_t {
  None,        // not rejected: forward to the usable candidates in order
  Dialled,     // not a 12333/12370 number, malformed, incomplete (404/484)
  Region,      // unknown division or area code (404)
  Route,       // no route at any level and no default route (404)
  Candidates,  // every candidate skipped (503 + Retry-After)
};
std::string_view decisionStageName(DecisionStage stage);  // "", "dialled", "region", ...

struct DecideInput {
  std::string_view dialled;   // Request-URI user part: "12333320500"
  std::string_view caller;    // caller number as seen: P-Asserted-Identity, else From user
  std::string_view topic;     // X-12333-Topic value; may be empty or garbage
  std::int64_t now_unix = 0;  // for opening hours
  std::uint64_t random = 0;   // seed of the weighted order inside a route group
  // Live state by TrunkIndex (health, admin state, capacity), owned by the adapter; a
  // non-None entry skips the trunk with that reason. Empty, or shorter than the trunk list:
  // the missing trunks are available.
  std::span<const SkipReason> trunk_state = {};
};

struct Candidate {
  TrunkIndex trunk = 0;
  std::uint32_t weight = 1;
  std::uint16_t group = 0;  // 0-based group of the route
  SkipReason skip = SkipReason::None;
  bool usable() const { return skip == SkipReason::None; }
};

struct Decision {
  // Stage: dialled number.
  DialResult dial;
  // Stage: region.
  RegionCode region = kNoRegion;
  RegionSource region_source = RegionSource::None;
  std::string_view area_code;  // the dialled area code (DialledAreaCode), into the input
  NationalNumber caller;       // the caller's national number (bare form only; "" when unusable)
  std::uint8_t caller_match_length = 0;  // digits of `caller` that matched (prefix/area code)
  // Topic.
  TopicStatus topic_status = TopicStatus::Absent;
  TopicCode topic = kNoTopic;   // the valid topic, else kNoTopic
  std::string_view topic_text;  // the header value, blanks trimmed, into the input
  // Stage: route.
  LookupResult found;  // found.topic != kNoTopic: a (region, topic) route matched
  // Stage: candidates, in the order to try them; usable ones have skip == None.
  std::vector<Candidate> candidates;
  std::size_t usable = 0;
  // The answer when the call cannot be forwarded; status 0 = forward.
  int status = 0;
  std::string_view reason;   // static text for a Reason/Warning header
  bool retry_after = false;  // 503 when every candidate was skipped
  DecisionStage rejected_at = DecisionStage::None;

  bool forward() const { return status == 0; }
};

// Runs the stages and fills `out` (its candidate vector is cleared and reused).
void decide(const RoutingTable& table, const DecideInput& input, Decision& out);
Decision decide(const RoutingTable& table, const DecideInput& input);

}  // namespace sb::core
