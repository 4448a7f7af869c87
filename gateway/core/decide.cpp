// The routing decision for one new call (SPEC §3-§4): the daemon's stages dialled number ->
// region -> route -> candidates, shared with `switchboardctl route explain`.
#include "core/decide.hpp"

#include <utility>

#include "core/routing_internal.hpp"

namespace sb::core {
namespace {

// Static texts for Reason/Warning headers; the same words the adapter used before.
constexpr std::string_view kUnknownDivision = "unknown division code";
constexpr std::string_view kUnknownAreaCode = "unknown area code";
constexpr std::string_view kNoRoute = "no route";
constexpr std::string_view kNoRegionNoDefault = "no caller region and no default route";
constexpr std::string_view kAllClosed = "every destination trunk is closed now";
constexpr std::string_view kNoneAvailable = "no destination trunk available";

std::string_view trimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

void reject(Decision& out, DecisionStage stage, int status, std::string_view reason) {
  out.rejected_at = stage;
  out.status = status;
  out.reason = reason;
}

// SPEC §3: the region from the dialled code, the dialled area code, or (bare 12333) the
// caller's home region; kNoRegion when none applies (the default route). False: rejected.
bool findRegion(const RoutingTable& table, const DecideInput& input, Decision& out) {
  const Dialled& dialled = out.dial.dialled;
  switch (dialled.form) {
    case DialledForm::Division:
      if (!table.knownRegion(dialled.division)) {
        reject(out, DecisionStage::Region, 404, kUnknownDivision);
        return false;
      }
      out.region = dialled.division;
      out.region_source = RegionSource::DialledCode;
      return true;
    case DialledForm::AreaCode: {
      out.area_code = dialled.area_code;
      const std::optional<RegionCode> region = table.areaCode(dialled.area_code);
      if (!region) {
        reject(out, DecisionStage::Region, 404, kUnknownAreaCode);
        return false;
      }
      out.region = *region;
      out.region_source = RegionSource::DialledAreaCode;
      return true;
    }
    case DialledForm::Bare: {
      // SPEC §3: route by the caller's number (P-Asserted-Identity, else From); unknown or
      // withheld callers fall to the default route.
      out.caller = nationalNumber(input.caller);
      if (const std::optional<CallerMatch> match = table.matchCaller(out.caller.view())) {
        out.region = match->region;
        out.region_source =
            match->mobile ? RegionSource::CallerMobile : RegionSource::CallerAreaCode;
        out.caller_match_length = match->length;
      }
      return true;
    }
  }
  return true;
}

// SPEC §4: groups in order, a weighted random order inside each group; then what makes a
// trunk unusable now (live state first: an operator's disable outranks the clock).
void fillCandidates(const RoutingTable& table, const DecideInput& input, Decision& out) {
  const Route& route = *out.found.route;
  std::size_t total = 0;
  for (const RouteGroup& group : route.groups) total += group.members.size();
  out.candidates.reserve(total);
  detail::SplitMix64 rng(input.random);
  for (std::size_t g = 0; g < route.groups.size(); ++g) {
    const std::size_t first = out.candidates.size();
    for (const RouteMember& member : route.groups[g].members) {
      out.candidates.push_back(
          Candidate{member.trunk, member.weight, static_cast<std::uint16_t>(g), SkipReason::None});
    }
    detail::weightedOrder(out.candidates.begin() + static_cast<std::ptrdiff_t>(first),
                          out.candidates.end(), rng,
                          [](const Candidate& c) -> std::uint64_t { return c.weight; });
  }
  const std::vector<Trunk>& trunks = table.trunks();
  bool all_closed = true;
  for (Candidate& candidate : out.candidates) {
    if (candidate.trunk < input.trunk_state.size() &&
        input.trunk_state[candidate.trunk] != SkipReason::None) {
      candidate.skip = input.trunk_state[candidate.trunk];
    } else if (candidate.trunk < trunks.size() && !trunks[candidate.trunk].openAt(input.now_unix)) {
      candidate.skip = SkipReason::Closed;
    }
    if (candidate.usable()) ++out.usable;
    all_closed = all_closed && candidate.skip == SkipReason::Closed;
  }
  if (out.usable == 0) {
    // SPEC §4: 503 with Retry-After when everything is closed, down or full.
    reject(out, DecisionStage::Candidates, 503,
           all_closed && !out.candidates.empty() ? kAllClosed : kNoneAvailable);
    out.retry_after = true;
  }
}

}  // namespace

std::string_view regionSourceName(RegionSource source) {
  switch (source) {
    case RegionSource::None:
      return "none";
    case RegionSource::DialledCode:
      return "dialled_code";
    case RegionSource::DialledAreaCode:
      return "dialled_area_code";
    case RegionSource::CallerMobile:
      return "caller_mobile";
    case RegionSource::CallerAreaCode:
      return "caller_area_code";
  }
  return "none";
}

std::string_view topicStatusName(TopicStatus status) {
  switch (status) {
    case TopicStatus::Absent:
      return "absent";
    case TopicStatus::Valid:
      return "valid";
    case TopicStatus::Invalid:
      return "invalid";
  }
  return "absent";
}

std::string_view skipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::None:
      return "";
    case SkipReason::Closed:
      return "closed";
    case SkipReason::Down:
      return "down";
    case SkipReason::Disabled:
      return "disabled";
    case SkipReason::Draining:
      return "draining";
    case SkipReason::Full:
      return "full";
  }
  return "";
}

std::string_view decisionStageName(DecisionStage stage) {
  switch (stage) {
    case DecisionStage::None:
      return "";
    case DecisionStage::Dialled:
      return "dialled";
    case DecisionStage::Region:
      return "region";
    case DecisionStage::Route:
      return "route";
    case DecisionStage::Candidates:
      return "candidates";
  }
  return "";
}

void decide(const RoutingTable& table, const DecideInput& input, Decision& out) {
  // Start afresh but keep the candidate vector's storage (no allocation when reused).
  std::vector<Candidate> candidates = std::move(out.candidates);
  candidates.clear();
  out = Decision{};
  out.candidates = std::move(candidates);

  // The topic first: it never fails the call (an invalid one is ignored and counted).
  out.topic_text = trimBlanks(input.topic);
  if (!out.topic_text.empty()) {
    const std::optional<TopicCode> topic = parseTopicCode(out.topic_text);
    if (topic && table.topic(*topic) != nullptr) {
      out.topic_status = TopicStatus::Valid;
      out.topic = *topic;
    } else {
      out.topic_status = TopicStatus::Invalid;
    }
  }

  // Stage: dialled number.
  out.dial = parseDialled(input.dialled);
  if (!out.dial.ok()) {
    reject(out, DecisionStage::Dialled, dialErrorStatus(out.dial.error), out.dial.reason);
    return;
  }

  // Stage: region.
  if (!findRegion(table, input, out)) return;

  // Stage: route. kNoRegion looks up the default routes only.
  out.found = table.lookup(out.region, out.topic);
  if (out.found.route == nullptr) {
    reject(out, DecisionStage::Route, 404, out.region == kNoRegion ? kNoRegionNoDefault : kNoRoute);
    return;
  }

  // Stage: candidates.
  fillCandidates(table, input, out);
}

Decision decide(const RoutingTable& table, const DecideInput& input) {
  Decision out;
  decide(table, input, out);
  return out;
}

}  // namespace sb::core
