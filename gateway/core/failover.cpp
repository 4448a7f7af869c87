// Failover decisions. SPEC §4, RFC 3261 §16.7.
#include "core/failover.hpp"

namespace sb::core {

AttemptOutcome classifyFinal(int status) {
  if (status >= 200 && status <= 299) return AttemptOutcome::Answered;
  // SPEC §4: on 408 or any 5xx the next trunk is tried; a 408 is what nta reports for a
  // trunk that never answered, and a 5xx says the trunk (not the callee) is in trouble.
  if (status == 408 || (status >= 500 && status <= 599)) return AttemptOutcome::TryNext;
  // SPEC §4: other 4xx and all 6xx are final and go back to the caller. 3xx too: a
  // transfer platform does not recurse on redirects from a center, it relays them.
  // Anything outside 2xx..6xx is not a valid final status; relaying it is the safe choice.
  return AttemptOutcome::Final;
}

namespace {

// A response that says "this trunk is down or full", as opposed to a real fault report.
bool meansUnavailable(const AttemptResult& attempt) {
  return attempt.local || attempt.status == 408 || attempt.status == 503;
}

}  // namespace

Exhausted chooseExhaustedResponse(std::span<const AttemptResult> attempts) {
  Exhausted best;  // SPEC §4: 503 + Retry-After, generated, unless a trunk gave a real 5xx
  bool found = false;
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const AttemptResult& attempt = attempts[i];
    if (meansUnavailable(attempt)) continue;
    // Only a trunk's own 5xx is worth relaying; anything else (a final 4xx/6xx would not
    // have led here) cannot be the "best" of an exhausted failover.
    if (attempt.status < 500 || attempt.status > 599) continue;
    // RFC 3261 §16.7 step 6: the lowest class wins, and inside it the lowest code; with a
    // 5xx-only set that is simply the lowest status. Ties keep the first trunk tried.
    if (!found || attempt.status < best.status) {
      best.status = attempt.status;
      best.index = i;
      found = true;
    }
  }
  if (found) {
    best.use_trunk_response = true;
    // SPEC §4: Retry-After only when everything was down or full; a real fault is not
    // cured by waiting, so the caller sees the trunk's response as it was.
    best.retry_after = false;
  }
  return best;
}

}  // namespace sb::core
