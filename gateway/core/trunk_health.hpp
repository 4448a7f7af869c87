// Per-trunk health from SIP OPTIONS probes: an explicit state machine that takes events and
// returns actions (style.md "state machines take events and return actions; timers live in
// the adapter, which feeds TimerFired events in"). SPEC §4: probe every 15 s ±20 %, probe
// timeout 3 s (never the 32 s transaction timer), down after 3 misses, up after 2 answers,
// any response but a locally generated 408 counts as alive unless the trunk lists accepted
// codes; health survives table reloads, keyed by trunk name.
//
// Pure: std only, no clock, no randomness of its own. `now_ms` is wall-clock Unix time in
// milliseconds, used only as a timestamp for export (the time of the last change, of the last
// probe); every duration the machine needs (timeouts, intervals) it returns as an action and
// the adapter times it. One machine per trunk, owned by the SIP thread; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/table_spec.hpp"

namespace sb::core {

enum class HealthState : std::uint8_t {
  Unknown,  // no verdict yet (start, probing just enabled): routed as if up, so a new gateway
            // takes calls at once; the first answer makes it Up, down_after misses Down
  Up,
  Down,  // skipped by routing (SkipReason::Down)
};
std::string_view healthStateName(HealthState state);  // "unknown", "up", "down"

// Whether routing may use a trunk in this state (Unknown and Up: yes).
constexpr bool healthRoutable(HealthState state) { return state != HealthState::Down; }

// Probe settings of one trunk. Defaults are SPEC §4's.
struct ProbeConfig {
  std::uint32_t interval_ms = 15'000;  // 0: probing disabled, the trunk is always Up
  std::uint32_t jitter_percent = 20;   // each interval drawn from interval ± this share
  std::uint32_t timeout_ms = 3'000;    // the probe's own timeout, not RFC 3261 Timer F (32 s)
  std::uint32_t down_after = 3;        // consecutive misses: Up/Unknown -> Down
  std::uint32_t up_after = 2;          // consecutive answers: Down -> Up
  // Final statuses that prove the trunk alive. Empty: any response the trunk itself sent
  // (many PBXs answer OPTIONS with 403/404/405 and are alive).
  std::vector<int> accepted_codes;

  bool enabled() const { return interval_ms > 0; }
  bool operator==(const ProbeConfig&) const = default;
};

// Why a config cannot be used ("probe timeout 3000 ms must be shorter than the shortest
// interval 2400 ms", ...); nullopt when it is valid. For the config loader, which rejects the
// file (style.md: config validated once).
std::optional<std::string> probeConfigError(const ProbeConfig& config);

// Limits of the probe settings a routing table may give a trunk (the same as gateway.yaml's
// sip.probe, except that a trunk turns probing off with `enabled: false`, not interval 0).
inline constexpr std::uint32_t kMinProbeIntervalMs = 100;
inline constexpr std::uint32_t kMaxProbeIntervalMs = 3'600'000;
inline constexpr std::uint32_t kMaxProbeJitterPercent = 50;
inline constexpr std::uint32_t kMinProbeTimeoutMs = 10;
inline constexpr std::uint32_t kMaxProbeTimeoutMs = 60'000;
inline constexpr std::uint32_t kMaxProbeThreshold = 100;  // down_after, up_after

// SPEC §4: the settings one trunk is probed with: its own (routing tables, ProbeOverrides)
// over the gateway-wide `defaults` (gateway.yaml sip.probe), field by field.
//   - enabled false: interval 0, never probed, Up for good;
//   - enabled true with no interval anywhere (sip.probe.interval_ms 0): SPEC's 15 s;
//   - a trunk's own interval probes it even when the gateway-wide interval is 0;
//   - accepted_codes set (even empty) replaces the gateway-wide list.
// A timeout that does not fit under the shortest jittered interval (a trunk's short interval
// with the gateway's longer timeout) is lowered to fit, one probe at a time; `adjusted`, when
// given, then says so ("probe timeout 3000 ms lowered to 1599 ms ...") and is left alone
// otherwise. The result passes probeConfigError when `defaults` does and the overrides are
// within the limits above (buildTable checks them).
ProbeConfig resolveProbeConfig(const ProbeConfig& defaults, const ProbeOverrides& trunk,
                               std::string* adjusted = nullptr);

enum class ProbeVerdict : std::uint8_t {
  Alive,   // the trunk answered with an accepted status
  Miss,    // not proof of life: a local response (nta's 408/503), or a status not accepted
  Ignore,  // a provisional (1xx): the probe is still waiting for its final response
};
// SPEC §4: a locally generated response never proves the trunk alive (the trunk did not send
// it: nta's 408 on timeout, 503 on a transport failure); with no accepted codes listed any
// final response from the trunk is alive; with a list, only its codes are.
ProbeVerdict classifyProbeReply(const ProbeConfig& config, int status, bool local);

// The delay until the next probe: `interval_ms` ± `jitter_percent` %, drawn uniformly from
// `random` (SPEC §4 ±20 %, so trunks probed together drift apart). At least 1 ms.
std::uint32_t jitteredInterval(std::uint32_t interval_ms, std::uint32_t jitter_percent,
                               std::uint64_t random);

// First-probe delays for the trunks of a table, by position: the trunks whose probing is
// enabled (interval > 0) are spread evenly over their own interval, so 350 trunks at 15 s
// start one probe every ~43 ms instead of one burst; `random` rotates which trunk goes first
// so two gateway instances do not probe in step. Disabled trunks get 0 (never armed).
std::vector<std::uint32_t> spreadFirstProbes(std::span<const std::uint32_t> intervals_ms,
                                             std::uint64_t random);

// Events, fed in by the adapter.
struct ProbeSent {  // the OPTIONS left (after a SendProbe action)
  std::int64_t now_ms = 0;
};
struct ProbeAnswered {  // a response to the outstanding probe
  int status = 0;
  bool local = false;  // generated by nta, not received from the trunk
  std::uint32_t rtt_ms = 0;
  std::int64_t now_ms = 0;
};
struct ProbeTimedOut {  // the adapter's probe timer (ArmTimeout) fired
  std::int64_t now_ms = 0;
};
// ICMP port unreachable, TCP reset, TLS handshake failure, a send that failed at once: a miss
// at once (SPEC §4), without waiting for the probe timeout.
struct TransportError {
  std::string_view reason;  // "ICMP port unreachable", copied
  std::int64_t now_ms = 0;
  // true: the outstanding probe's own transaction failed (or sending it did), which ends it;
  // false: a call's INVITE to this trunk failed: a miss too, the probe keeps waiting.
  bool probe = true;
};
struct TimerFired {  // the adapter's next-probe timer (ArmNextProbe) fired
  std::int64_t now_ms = 0;
  std::uint64_t random = 0;  // draws the jitter of the interval after this probe
};
using HealthEvent =
    std::variant<ProbeSent, ProbeAnswered, ProbeTimedOut, TransportError, TimerFired>;

enum class HealthActionKind : std::uint8_t {
  SendProbe,      // send an OPTIONS to the trunk now, then feed ProbeSent (or TransportError)
  ArmTimeout,     // (re)arm this trunk's probe timeout for `ms`; on expiry feed ProbeTimedOut
  CancelTimeout,  // the probe ended: disarm the probe timeout, drop the probe transaction
  ArmNextProbe,   // (re)arm this trunk's next-probe timer for `ms`; on expiry feed TimerFired
  StateChanged,   // `from` -> `to` because of `reason`: log it, export it, refresh routing
};
std::string_view healthActionKindName(HealthActionKind kind);

struct HealthAction {
  HealthActionKind kind = HealthActionKind::SendProbe;
  std::uint32_t ms = 0;  // ArmTimeout, ArmNextProbe
  HealthState from = HealthState::Unknown;
  HealthState to = HealthState::Unknown;
  std::string reason;  // StateChanged: "3 consecutive misses, last: no answer within 3000 ms"

  static HealthAction sendProbe() { return make(HealthActionKind::SendProbe); }
  static HealthAction armTimeout(std::uint32_t ms) {
    return make(HealthActionKind::ArmTimeout, ms);
  }
  static HealthAction cancelTimeout() { return make(HealthActionKind::CancelTimeout); }
  static HealthAction armNextProbe(std::uint32_t ms) {
    return make(HealthActionKind::ArmNextProbe, ms);
  }
  static HealthAction stateChanged(HealthState from, HealthState to, std::string reason) {
    HealthAction action = make(HealthActionKind::StateChanged);
    action.from = from;
    action.to = to;
    action.reason = std::move(reason);
    return action;
  }
  static HealthAction make(HealthActionKind kind, std::uint32_t ms = 0) {
    HealthAction action;
    action.kind = kind;
    action.ms = ms;
    return action;
  }
  bool operator==(const HealthAction&) const = default;
};
using HealthActions = std::vector<HealthAction>;  // in the order the adapter performs them

// What is kept and exported per trunk (admin API, status page, metrics).
struct HealthStatus {
  HealthState state = HealthState::Unknown;
  std::int64_t changed_at_ms = 0;  // last state change (or creation)
  std::string last_failure;        // why the last miss was a miss; "" before any
  std::int64_t last_failure_ms = 0;
  std::optional<std::uint32_t> last_rtt_ms;  // RTT of the last response from the trunk
  int last_status = 0;                       // status of the last final response (0: none)
  std::int64_t last_probe_ms = 0;            // when the last probe was sent (0: never)
  std::uint32_t consecutive_misses = 0;
  std::uint32_t consecutive_answers = 0;
  bool probe_outstanding = false;  // a probe was sent and has no result yet
  // Totals since the machine was created (carried over reloads).
  std::uint64_t probes_sent = 0;
  std::uint64_t answers = 0;  // probes that proved the trunk alive
  std::uint64_t misses = 0;   // timeouts, transport errors, unaccepted or local responses
};

class TrunkHealth {
 public:
  // Unknown, or Up for good when probing is disabled (interval 0).
  explicit TrunkHealth(ProbeConfig config = {}, std::int64_t now_ms = 0);

  // The first action of a new machine: ArmNextProbe(first_delay_ms) (from spreadFirstProbes);
  // nothing when probing is disabled.
  HealthActions start(std::uint32_t first_delay_ms) const;

  // One event in, the actions to perform out. With probing disabled every event is ignored.
  HealthActions handle(const HealthEvent& event);

  // A table reload kept this trunk (same name): state, counters and totals carry over, the
  // new settings apply from now on. Thresholds apply at once (a trunk with 2 misses becomes
  // Down when down_after drops to 2). Probing disabled: Up for good (an outstanding probe is
  // dropped). Probing enabled: Unknown, first probe after `first_delay_ms`. A new interval
  // re-arms the next probe after `first_delay_ms`. The same settings: nothing changes.
  HealthActions reconfigure(ProbeConfig config, std::int64_t now_ms, std::uint32_t first_delay_ms);

  HealthState state() const { return status_.state; }
  bool routable() const { return healthRoutable(status_.state); }
  const HealthStatus& status() const { return status_; }
  const ProbeConfig& config() const { return config_; }

 private:
  HealthActions on(const ProbeSent& event);
  HealthActions on(const ProbeAnswered& event);
  HealthActions on(const ProbeTimedOut& event);
  HealthActions on(const TransportError& event);
  HealthActions on(const TimerFired& event);
  void endProbe(HealthActions& actions);
  void miss(std::string reason, std::int64_t now_ms, HealthActions& actions);
  void answer(int status, std::int64_t now_ms, HealthActions& actions);
  void applyThresholds(std::int64_t now_ms, HealthActions& actions);
  void change(HealthState to, std::string reason, std::int64_t now_ms, HealthActions& actions);

  ProbeConfig config_;
  HealthStatus status_;
};

}  // namespace sb::core
