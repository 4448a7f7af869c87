// Per-trunk health state machine. SPEC §4; RFC 3261 §11 (OPTIONS), §17.1.2.2 (Timer F).
#include "core/trunk_health.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace sb::core {

namespace {

// A threshold of 0 would flip on no evidence at all; the machine treats it as 1 (the config
// loader rejects it anyway, see probeConfigError).
std::uint32_t atLeastOne(std::uint32_t n) { return std::max<std::uint32_t>(n, 1); }

std::string msText(std::uint32_t ms) { return std::to_string(ms) + " ms"; }

// The shortest interval jitteredInterval() can draw.
std::uint64_t shortestInterval(const ProbeConfig& config) {
  const std::uint64_t interval = config.interval_ms;
  return interval - interval * std::min<std::uint32_t>(config.jitter_percent, 100) / 100;
}

}  // namespace

std::string_view healthStateName(HealthState state) {
  switch (state) {
    case HealthState::Unknown:
      return "unknown";
    case HealthState::Up:
      return "up";
    case HealthState::Down:
      return "down";
  }
  return "unknown";
}

std::string_view healthActionKindName(HealthActionKind kind) {
  switch (kind) {
    case HealthActionKind::SendProbe:
      return "send_probe";
    case HealthActionKind::ArmTimeout:
      return "arm_timeout";
    case HealthActionKind::CancelTimeout:
      return "cancel_timeout";
    case HealthActionKind::ArmNextProbe:
      return "arm_next_probe";
    case HealthActionKind::StateChanged:
      return "state_changed";
  }
  return "";
}

std::optional<std::string> probeConfigError(const ProbeConfig& config) {
  if (!config.enabled()) return std::nullopt;  // disabled: the other settings do not matter
  if (config.jitter_percent > 50) {
    return "probe jitter " + std::to_string(config.jitter_percent) + " % is above 50 %";
  }
  if (config.timeout_ms == 0) return "probe timeout must be above 0 ms";
  // One probe at a time: a probe must end (answer or timeout) before the next is due, even
  // when the jitter draws the shortest interval.
  const std::uint64_t shortest = shortestInterval(config);
  if (config.timeout_ms >= shortest) {
    return "probe timeout " + msText(config.timeout_ms) +
           " must be shorter than the shortest interval " + std::to_string(shortest) + " ms";
  }
  if (config.down_after == 0) return "probe down_after must be at least 1";
  if (config.up_after == 0) return "probe up_after must be at least 1";
  for (const int code : config.accepted_codes) {
    // RFC 3261 §21: final responses are 200-699; a 1xx never ends a probe.
    if (code < 200 || code > 699) {
      return "accepted probe code " + std::to_string(code) + " is not a final status (200-699)";
    }
  }
  return std::nullopt;
}

ProbeConfig resolveProbeConfig(const ProbeConfig& defaults, const ProbeOverrides& trunk,
                               std::string* adjusted) {
  ProbeConfig config = defaults;
  if (trunk.enabled == false) {
    config.interval_ms = 0;  // never probed: Up for good
    return config;
  }
  if (trunk.interval_ms) config.interval_ms = *trunk.interval_ms;
  if (trunk.jitter_percent) config.jitter_percent = *trunk.jitter_percent;
  if (trunk.timeout_ms) config.timeout_ms = *trunk.timeout_ms;
  if (trunk.down_after) config.down_after = *trunk.down_after;
  if (trunk.up_after) config.up_after = *trunk.up_after;
  if (trunk.accepted_codes) config.accepted_codes = *trunk.accepted_codes;
  // Probing switched on for this trunk alone, with no interval given anywhere: SPEC §4's.
  if (trunk.enabled == true && config.interval_ms == 0) {
    config.interval_ms = ProbeConfig{}.interval_ms;
  }
  if (!config.enabled()) return config;
  // One probe at a time: the timeout must end a probe before the next is due.
  const std::uint64_t shortest = shortestInterval(config);
  if (config.timeout_ms >= shortest) {
    const auto fitted = static_cast<std::uint32_t>(shortest > 1 ? shortest - 1 : 1);
    if (adjusted) {
      *adjusted = "probe timeout " + msText(config.timeout_ms) + " lowered to " + msText(fitted) +
                  " to fit under the shortest interval " + std::to_string(shortest) + " ms";
    }
    config.timeout_ms = fitted;
  }
  return config;
}

ProbeVerdict classifyProbeReply(const ProbeConfig& config, int status, bool local) {
  // RFC 3261 §17.1.1: a provisional response leaves the client transaction running.
  if (status >= 100 && status <= 199) return ProbeVerdict::Ignore;
  // SPEC §4: a locally generated 408 is never "alive"; nor is any other local response
  // (nta answers 503 itself on a transport failure): the trunk sent nothing.
  if (local) return ProbeVerdict::Miss;
  if (config.accepted_codes.empty()) {
    // SPEC §4: any response counts as alive (403/404/405 from PBXs that do not do OPTIONS).
    return status >= 200 && status <= 699 ? ProbeVerdict::Alive : ProbeVerdict::Miss;
  }
  const bool accepted = std::find(config.accepted_codes.begin(), config.accepted_codes.end(),
                                  status) != config.accepted_codes.end();
  return accepted ? ProbeVerdict::Alive : ProbeVerdict::Miss;
}

std::uint32_t jitteredInterval(std::uint32_t interval_ms, std::uint32_t jitter_percent,
                               std::uint64_t random) {
  const std::uint64_t interval = interval_ms;
  const std::uint64_t span = interval * std::min<std::uint32_t>(jitter_percent, 100) / 100;
  // Uniform over [interval - span, interval + span]; the modulo bias is < 2^-40 for any
  // interval that fits a uint32.
  const std::uint64_t drawn = interval - span + random % (2 * span + 1);
  return static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(drawn, 1, std::numeric_limits<std::uint32_t>::max()));
}

std::vector<std::uint32_t> spreadFirstProbes(std::span<const std::uint32_t> intervals_ms,
                                             std::uint64_t random) {
  std::vector<std::uint32_t> delays(intervals_ms.size(), 0);
  const auto enabled = static_cast<std::uint64_t>(
      std::count_if(intervals_ms.begin(), intervals_ms.end(), [](auto ms) { return ms > 0; }));
  if (enabled == 0) return delays;
  const std::uint64_t shift = random % enabled;
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < intervals_ms.size(); ++i) {
    if (intervals_ms[i] == 0) continue;
    // Slot (k + shift) mod n of n equal slots of this trunk's own interval.
    const std::uint64_t slot = (k + shift) % enabled;
    delays[i] = static_cast<std::uint32_t>(intervals_ms[i] * slot / enabled);
    ++k;
  }
  return delays;
}

TrunkHealth::TrunkHealth(ProbeConfig config, std::int64_t now_ms) : config_(std::move(config)) {
  // SPEC §4 (issue 5): a trunk that is not probed is always up; a probed one starts Unknown,
  // which routing treats as up, so a new gateway routes at once.
  status_.state = config_.enabled() ? HealthState::Unknown : HealthState::Up;
  status_.changed_at_ms = now_ms;
}

HealthActions TrunkHealth::start(std::uint32_t first_delay_ms) const {
  if (!config_.enabled()) return {};
  return {HealthAction::armNextProbe(first_delay_ms)};
}

HealthActions TrunkHealth::handle(const HealthEvent& event) {
  if (!config_.enabled()) return {};  // not probed: Up for good, nothing is timed
  return std::visit([this](const auto& e) { return on(e); }, event);
}

HealthActions TrunkHealth::on(const ProbeSent& event) {
  // A ProbeSent while a probe is outstanding (an adapter that lost one) restarts the wait.
  status_.probe_outstanding = true;
  status_.last_probe_ms = event.now_ms;
  ++status_.probes_sent;
  // SPEC §4: the probe's own timeout, never the 32 s of RFC 3261 Timer F.
  return {HealthAction::armTimeout(config_.timeout_ms)};
}

HealthActions TrunkHealth::on(const ProbeAnswered& event) {
  // A response with no probe outstanding is late (its probe already timed out and counted
  // as a miss) or stray: it proves nothing more.
  if (!status_.probe_outstanding) return {};
  const ProbeVerdict verdict = classifyProbeReply(config_, event.status, event.local);
  if (verdict == ProbeVerdict::Ignore) return {};
  HealthActions actions;
  endProbe(actions);
  status_.last_status = event.status;
  if (!event.local) status_.last_rtt_ms = event.rtt_ms;  // a real round trip to the trunk
  if (verdict == ProbeVerdict::Alive) {
    answer(event.status, event.now_ms, actions);
  } else if (event.local) {
    miss(event.status == 408 ? "no answer (local 408)"
                             : "local " + std::to_string(event.status) + " (trunk unreachable)",
         event.now_ms, actions);
  } else {
    miss("answered " + std::to_string(event.status) + ", not an accepted code", event.now_ms,
         actions);
  }
  return actions;
}

HealthActions TrunkHealth::on(const ProbeTimedOut& event) {
  if (!status_.probe_outstanding) return {};  // a timer that raced with the answer
  status_.probe_outstanding = false;          // the timer fired: nothing to disarm
  HealthActions actions;
  miss("no answer within " + msText(config_.timeout_ms), event.now_ms, actions);
  return actions;
}

HealthActions TrunkHealth::on(const TransportError& event) {
  HealthActions actions;
  if (event.probe && status_.probe_outstanding) endProbe(actions);
  // SPEC §4 (issue 5): ICMP refused, TCP reset, TLS failure count as a miss at once.
  miss("transport error: " + std::string(event.reason), event.now_ms, actions);
  return actions;
}

HealthActions TrunkHealth::on(const TimerFired& event) {
  HealthActions actions;
  if (status_.probe_outstanding) {
    // The previous probe got neither an answer nor its timeout (probeConfigError keeps the
    // timeout shorter than any interval, so only a lost timer gets here): it is a miss, and
    // one probe at a time.
    endProbe(actions);
    miss("no answer before the next probe was due", event.now_ms, actions);
  }
  actions.push_back(HealthAction::sendProbe());
  // SPEC §4: ±20 % jitter on every interval, so probes sent together drift apart.
  actions.push_back(HealthAction::armNextProbe(
      jitteredInterval(config_.interval_ms, config_.jitter_percent, event.random)));
  return actions;
}

void TrunkHealth::endProbe(HealthActions& actions) {
  status_.probe_outstanding = false;
  actions.push_back(HealthAction::cancelTimeout());
}

void TrunkHealth::miss(std::string reason, std::int64_t now_ms, HealthActions& actions) {
  ++status_.misses;
  ++status_.consecutive_misses;
  status_.consecutive_answers = 0;  // SPEC §4 hysteresis: answers must be consecutive
  status_.last_failure = std::move(reason);
  status_.last_failure_ms = now_ms;
  applyThresholds(now_ms, actions);
}

void TrunkHealth::answer(int status, std::int64_t now_ms, HealthActions& actions) {
  ++status_.answers;
  ++status_.consecutive_answers;
  status_.consecutive_misses = 0;
  if (status_.state == HealthState::Unknown) {
    // Unknown is already routed as up: one answer confirms it, no hysteresis to pass.
    change(HealthState::Up, "answered " + std::to_string(status), now_ms, actions);
    return;
  }
  applyThresholds(now_ms, actions);
}

void TrunkHealth::applyThresholds(std::int64_t now_ms, HealthActions& actions) {
  // SPEC §4: down after N consecutive misses, up after M consecutive answers.
  if (status_.state != HealthState::Down && status_.consecutive_misses > 0 &&
      status_.consecutive_misses >= atLeastOne(config_.down_after)) {
    change(HealthState::Down,
           std::to_string(status_.consecutive_misses) +
               " consecutive misses, last: " + status_.last_failure,
           now_ms, actions);
  } else if (status_.state == HealthState::Down && status_.consecutive_answers > 0 &&
             status_.consecutive_answers >= atLeastOne(config_.up_after)) {
    change(HealthState::Up,
           std::to_string(status_.consecutive_answers) + " consecutive answers, last " +
               std::to_string(status_.last_status),
           now_ms, actions);
  }
}

void TrunkHealth::change(HealthState to, std::string reason, std::int64_t now_ms,
                         HealthActions& actions) {
  const HealthState from = status_.state;
  status_.state = to;
  status_.changed_at_ms = now_ms;
  actions.push_back(HealthAction::stateChanged(from, to, std::move(reason)));
}

HealthActions TrunkHealth::reconfigure(ProbeConfig config, std::int64_t now_ms,
                                       std::uint32_t first_delay_ms) {
  if (config == config_) return {};
  const bool was_enabled = config_.enabled();
  const std::uint32_t old_interval = config_.interval_ms;
  config_ = std::move(config);
  HealthActions actions;
  if (!config_.enabled()) {
    if (status_.probe_outstanding) endProbe(actions);
    status_.consecutive_misses = 0;
    status_.consecutive_answers = 0;
    if (status_.state != HealthState::Up)
      change(HealthState::Up, "probing disabled", now_ms, actions);
    return actions;  // a next-probe timer still armed fires into handle(), which ignores it
  }
  if (!was_enabled) {
    // It was Up only because nobody looked: from now on, no verdict until a probe answers.
    change(HealthState::Unknown, "probing enabled", now_ms, actions);
    actions.push_back(HealthAction::armNextProbe(first_delay_ms));
    return actions;
  }
  applyThresholds(now_ms, actions);
  if (config_.interval_ms != old_interval) {
    actions.push_back(HealthAction::armNextProbe(first_delay_ms));
  }
  return actions;
}

}  // namespace sb::core
