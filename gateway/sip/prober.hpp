// Trunk health probing (SPEC §4, issue 5 item 1): one core::TrunkHealth machine per trunk,
// driven by out-of-dialog OPTIONS sent through the proxy's nta agent, with the trunk's own
// probe settings from the routing table over the gateway-wide sip.probe ones. The machine decides;
// this adapter times it (two su_timers per trunk: next probe, probe timeout), sends the
// probes, feeds the results back in and exports them (metrics, one log line per change, the
// owner's callback). Everything runs on the thread that owns the su_root and the agent.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/trunk_health.hpp"
#include "metrics/metrics.hpp"
#include "sip/snapshot.hpp"

struct su_root_s;    // su_root_t
struct nta_agent_s;  // nta_agent_t

namespace sb::sip {

class Prober {
 public:
  struct StateChange {
    std::string trunk;
    core::HealthState from = core::HealthState::Unknown;
    core::HealthState to = core::HealthState::Unknown;
    std::string reason;  // "3 consecutive misses, last: no answer within 3000 ms"
  };
  using OnChange = std::function<void(const StateChange&)>;

  // `from_uri` is the From of every probe ("sip:switchboard@127.0.0.1:5060"); a tag is
  // added per probe. `on_change` runs on the SIP thread after states() reflects the change;
  // it must not call apply() or setDefaults(). Nothing is probed before apply().
  Prober(nta_agent_s* agent, su_root_s* root, core::ProbeConfig defaults, std::string from_uri,
         metrics::Metrics& metrics, OnChange on_change);
  // Destroys every timer and outstanding probe transaction: destroy the Prober before the
  // agent.
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // A new routing snapshot: trunks keep their health by name (TrunkHealth::reconfigure),
  // new ones start with their first probes spread over one interval (spreadFirstProbes),
  // removed ones stop. states() is rebuilt by TrunkIndex of the new table before any
  // resulting change is reported.
  void apply(const RoutingSnapshot& snapshot);
  // By TrunkIndex of the last applied snapshot.
  const std::vector<core::HealthState>& states() const { return states_; }
  // A call's INVITE to `trunk` hit a transport error (ICMP refused, TCP reset): a miss at once
  // (TransportError{probe=false}); an outstanding probe keeps waiting. Out of range: ignored.
  void callTransportError(core::TrunkIndex trunk, std::string_view reason);
  // For the admin API; nullptr when the trunk is not in the last applied snapshot.
  const core::HealthStatus* status(std::string_view trunk) const;
  // SIGHUP: new gateway-wide probe settings (sip.probe), the defaults under every trunk's
  // own settings from the routing table (core::resolveProbeConfig; TrunkHealth::reconfigure).
  void setDefaults(core::ProbeConfig config);
  const core::ProbeConfig& defaults() const { return defaults_; }
  // The settings `trunk` is probed with (its own over the defaults); nullptr when the trunk is
  // not in the last applied snapshot.
  const core::ProbeConfig* config(std::string_view trunk) const;

  // Per-trunk state, public only so the C callbacks in prober.cpp can name it.
  struct Probe;

 private:
  friend struct ProberCallbacks;

  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };
  using ProbeMap =
      std::unordered_map<std::string, std::unique_ptr<Probe>, NameHash, std::equal_to<>>;

  // One event into a trunk's machine; its actions performed in order.
  void feed(Probe& probe, const core::HealthEvent& event);
  void perform(Probe& probe, const core::HealthActions& actions);
  void send(Probe& probe);
  // A final response to the outstanding probe (`transport_error` set: nta's local 503).
  void onFinal(Probe& probe, int status, bool local, const std::string& transport_error);
  void onTimeout(Probe& probe);
  void onNextProbe(Probe& probe);
  void dropTransaction(Probe& probe);
  void changed(Probe& probe, const core::HealthAction& action);
  void destroy(Probe& probe);
  // First-probe delays by TrunkIndex for trunks probed with `configs` (by TrunkIndex).
  std::vector<std::uint32_t> firstDelays(const std::vector<core::ProbeConfig>& configs);
  // A trunk's effective settings (its own over defaults_); logs when they had to be fitted.
  core::ProbeConfig resolve(Probe& probe);

  nta_agent_s* agent_;
  su_root_s* root_;
  core::ProbeConfig defaults_;
  std::string from_uri_;
  metrics::Metrics& metrics_;
  OnChange on_change_;
  std::mt19937_64 random_;
  ProbeMap probes_;               // by trunk name; stable addresses for the C callbacks
  std::vector<Probe*> by_index_;  // by TrunkIndex of the last applied snapshot
  std::vector<core::HealthState> states_;
};

}  // namespace sb::sip
