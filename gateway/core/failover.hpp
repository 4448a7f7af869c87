// What a final response from a trunk means for the call, and which response the caller
// gets when every trunk has been tried. SPEC §4, RFC 3261 §16.7. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sb::core {

enum class AttemptOutcome : std::uint8_t {
  Answered,  // 2xx: relay, the call is up
  Final,     // other 4xx, all 3xx and 6xx: relay to the caller, no more trunks
  TryNext,   // 408, any 5xx, or the failover timer (no provisional in time): next trunk
};

AttemptOutcome classifyFinal(int status);

struct AttemptResult {
  int status = 0;      // final status the trunk (or nta) gave; 408 for failover-timer expiry
  bool local = false;  // generated locally, not by the trunk
};

struct Exhausted {
  int status = 503;                 // what the caller gets
  bool use_trunk_response = false;  // true: relay the stored response of `index`; false: generate
  std::size_t index = 0;            // which attempt's response to relay
  bool retry_after = true;          // add Retry-After (everything was down or full)
};

// Every candidate tried and each one said TryNext (or none could be tried).
// SPEC §4: when everything is down or full the caller gets 503 + Retry-After: that is the
// answer when every attempt was local (timeout, transport error, failover timer), a 408,
// or a 503, and when there was no attempt at all. Otherwise some trunk gave a real 5xx
// (500, 502, 504, ...): RFC 3261 §16.7 relays the best of those trunk responses (lowest
// status within the lowest class; a 503 is never chosen over another 5xx), without
// Retry-After, so the caller sees the real fault.
Exhausted chooseExhaustedResponse(std::span<const AttemptResult> attempts);

}  // namespace sb::core
