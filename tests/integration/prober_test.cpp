// The trunk prober on real sockets: a probing nta agent on loopback, a second agent in the
// same process answering OPTIONS (trunk "alive"), and a closed UDP port (trunk "closed",
// ICMP port unreachable). Short intervals so every transition of SPEC §4 shows in seconds.
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/routing_table.hpp"
#include "core/table_spec.hpp"
#include "metrics/metrics.hpp"
#include "sip/prober.hpp"
#include "sip/snapshot.hpp"
#include "support/redis_server.hpp"

extern "C" su_log_t nta_log[];    // exported by libsofia-sip-ua, declared in no header
extern "C" su_log_t tport_log[];  // (notes/sofia-sip.md)

namespace {

using sb::core::HealthState;
using sb::sip::Prober;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// su_init + a root for the test's thread; everything below runs on it.
struct SofiaLoop {
  SofiaLoop() {
    su_init();
    // nta logs every refused probe at level 3; the prober's own lines say what matters.
    su_log_set_level(nta_log, 1);
    su_log_set_level(tport_log, 1);
    root = su_root_create(nullptr);
  }
  ~SofiaLoop() {
    su_root_destroy(root);
    su_deinit();
  }
  SofiaLoop(const SofiaLoop&) = delete;
  SofiaLoop& operator=(const SofiaLoop&) = delete;

  // Runs the loop until `done` holds or `limit` passes; returns `done()`.
  bool runUntil(const std::function<bool()>& done, milliseconds limit) const {
    const auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() >= deadline) return done();
      su_root_step(root, 10);
    }
    return true;
  }
  void runFor(milliseconds span) const {
    runUntil([] { return false; }, span);
  }

  su_root_t* root = nullptr;
};

int dropAll(nta_agent_magic_t*, nta_agent_t*, msg_t* msg, sip_t*) {
  msg_destroy(msg);
  return 0;
}

// The gateway's side: an agent configured like the proxy's (notes/sofia-sip.md).
struct ProbingAgent {
  ProbingAgent(su_root_t* root, int port) {
    const std::string url = "sip:127.0.0.1:" + std::to_string(port) + ";transport=udp";
    agent = nta_agent_create(root, URL_STRING_MAKE(url.c_str()), &dropAll, nullptr, NTATAG_UA(0),
                             NTATAG_SERVER_RPORT(1), NTATAG_CLIENT_RPORT(1), NTATAG_USE_NAPTR(0),
                             NTATAG_USE_SRV(0), TAG_END());
  }
  ~ProbingAgent() {
    if (agent) nta_agent_destroy(agent);
  }
  ProbingAgent(const ProbingAgent&) = delete;
  ProbingAgent& operator=(const ProbingAgent&) = delete;

  nta_agent_t* agent = nullptr;
};

// A trunk's PBX: answers OPTIONS 200 statelessly while `answering`; silent (but still bound,
// so no ICMP) otherwise; stop() closes its socket.
class OptionsResponder {
 public:
  OptionsResponder(su_root_t* root, int port) : root_(root), port_(port) { start(); }
  ~OptionsResponder() { stop(); }
  OptionsResponder(const OptionsResponder&) = delete;
  OptionsResponder& operator=(const OptionsResponder&) = delete;

  bool start() {
    const std::string url = "sip:127.0.0.1:" + std::to_string(port_) + ";transport=udp";
    agent_ = nta_agent_create(root_, URL_STRING_MAKE(url.c_str()), &OptionsResponder::onMessage,
                              reinterpret_cast<nta_agent_magic_t*>(this), NTATAG_USE_NAPTR(0),
                              NTATAG_USE_SRV(0), TAG_END());
    return agent_ != nullptr;
  }
  void stop() {
    if (agent_) nta_agent_destroy(agent_);
    agent_ = nullptr;
  }

  bool answering = true;
  int status = 200;  // what OPTIONS get: 404/405 for PBXs that do not do OPTIONS
  const char* phrase = "OK";
  int received = 0;
  std::set<std::string> call_ids;
  std::vector<unsigned long> cseqs;
  bool well_formed = true;  // every OPTIONS had what RFC 3261 §8.1.1 asks of it

 private:
  static int onMessage(nta_agent_magic_t* magic, nta_agent_t* agent, msg_t* msg, sip_t* sip) {
    auto* self = reinterpret_cast<OptionsResponder*>(magic);
    if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_options) {
      ++self->received;
      const bool ok = sip->sip_from && sip->sip_from->a_tag && sip->sip_to && !sip->sip_to->a_tag &&
                      sip->sip_call_id && sip->sip_cseq &&
                      sip->sip_cseq->cs_method == sip_method_options && sip->sip_max_forwards &&
                      sip->sip_max_forwards->mf_count == 70 && sip->sip_via &&
                      sip->sip_from->a_url->url_user &&
                      std::string(sip->sip_from->a_url->url_user) == "switchboard";
      if (!ok) self->well_formed = false;
      if (sip->sip_call_id) self->call_ids.insert(sip->sip_call_id->i_id);
      if (sip->sip_cseq) self->cseqs.push_back(sip->sip_cseq->cs_seq);
      if (self->answering) {
        nta_msg_treply(agent, msg, self->status, self->phrase, TAG_END());  // takes the message
        return 0;
      }
    }
    msg_destroy(msg);
    return 0;
  }

  su_root_t* root_;
  int port_;
  nta_agent_t* agent_ = nullptr;
};

sb::core::TrunkSpec trunkSpec(const std::string& name, int port, const std::string& source) {
  sb::core::TrunkSpec t;
  t.name = name;
  t.region = "320000";
  t.display_name = name;
  t.targets = {"sip:127.0.0.1:" + std::to_string(port) + ";transport=udp"};
  t.sources = {source};
  t.loc = {"prober_test", 1};
  return t;
}

std::shared_ptr<const sb::sip::RoutingSnapshot> snapshotOf(
    const std::vector<sb::core::TrunkSpec>& trunks, sb::metrics::Metrics& metrics) {
  sb::core::TableSpec spec;
  spec.regions = {{"320000", "江苏省", "Jiangsu", {"prober_test", 1}}};
  sb::core::RouteSpec route;
  route.key = "320000";
  for (const auto& t : trunks) {
    spec.trunks.push_back(t);
    route.groups.push_back({sb::core::RouteMemberSpec{t.name, 1, {"prober_test", 1}}});
  }
  spec.routes = {route};
  auto built = sb::core::buildTable(spec, 1);
  for (const auto& e : built.errors) UNSCOPED_INFO(sb::core::formatError(e));
  REQUIRE(built.errors.empty());
  return sb::sip::makeSnapshot(built.table, metrics, 0);
}

// The value of one series in the text exposition; -1 when absent.
double metricValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("prober: OPTIONS probes drive trunk health on real sockets", "[prober]") {
  SofiaLoop loop;
  ProbingAgent gateway(loop.root, sb::test::freePort());
  REQUIRE(gateway.agent != nullptr);
  const int alive_port = sb::test::freePort();
  const int closed_port = sb::test::freePort();  // nothing listens there: ICMP refused
  OptionsResponder responder(loop.root, alive_port);

  sb::metrics::Metrics metrics;
  sb::core::ProbeConfig config;
  config.interval_ms = 100;
  config.jitter_percent = 20;
  config.timeout_ms = 50;
  config.down_after = 3;
  config.up_after = 2;
  REQUIRE_FALSE(sb::core::probeConfigError(config).has_value());

  std::vector<Prober::StateChange> changes;
  // The last change of one trunk to `to`, or nullptr.
  auto lastChange = [&changes](const std::string& trunk,
                               HealthState to) -> const Prober::StateChange* {
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
      if (it->trunk == trunk && it->to == to) return &*it;
    }
    return nullptr;
  };
  auto prober = std::make_unique<Prober>(
      gateway.agent, loop.root, config, "sip:switchboard@127.0.0.1:5060", metrics,
      [&changes](const Prober::StateChange& change) { changes.push_back(change); });

  auto snapshot = snapshotOf({trunkSpec("alive", alive_port, "127.0.0.21"),
                              trunkSpec("closed", closed_port, "127.0.0.22")},
                             metrics);
  prober->apply(*snapshot);
  REQUIRE(prober->states() == std::vector<HealthState>{HealthState::Unknown, HealthState::Unknown});

  // (a) answers: Up at the first answer; (b) refused: Down after 3 transport errors, without
  // waiting for a probe timeout.
  const auto started = Clock::now();
  REQUIRE(loop.runUntil(
      [&] {
        return prober->states()[0] == HealthState::Up && prober->states()[1] == HealthState::Down;
      },
      milliseconds(3000)));
  const auto to_down = Clock::now() - started;
  CHECK(to_down < milliseconds(1000));  // first probe <= 100 ms, then 2 intervals <= 120 ms
  const auto* closed_down = lastChange("closed", HealthState::Down);
  REQUIRE(closed_down != nullptr);
  CHECK(closed_down->from == HealthState::Unknown);
  INFO("closed went down: " << closed_down->reason);
  CHECK(contains(closed_down->reason, "3 consecutive misses"));
  CHECK(contains(closed_down->reason, "transport error"));
  CHECK(contains(closed_down->reason, "Connection refused"));
  CHECK(contains(closed_down->reason, "127.0.0.1:" + std::to_string(closed_port)));

  loop.runFor(milliseconds(400));  // a few more rounds
  CHECK(prober->states()[0] == HealthState::Up);
  CHECK(prober->states()[1] == HealthState::Down);
  const auto* alive = prober->status("alive");
  REQUIRE(alive != nullptr);
  REQUIRE(alive->last_rtt_ms.has_value());
  CHECK(*alive->last_rtt_ms < 50);
  CHECK(alive->last_status == 200);
  CHECK(alive->answers >= 3);
  CHECK(alive->misses == 0);
  CHECK(responder.well_formed);
  CHECK(responder.call_ids.size() == static_cast<std::size_t>(responder.received));
  for (std::size_t i = 1; i < responder.cseqs.size(); ++i) {
    CHECK(responder.cseqs[i] == responder.cseqs[i - 1] + 1);
  }
  const auto* closed = prober->status("closed");
  REQUIRE(closed != nullptr);
  CHECK(contains(closed->last_failure, "transport error"));
  CHECK_FALSE(closed->last_rtt_ms.has_value());
  CHECK(prober->status("nosuch") == nullptr);

  {
    const std::string text = metrics.serialize();
    INFO(text);
    CHECK(metricValue(text, "switchboard_trunk_up{trunk=\"alive\"}") == 1);
    CHECK(metricValue(text, "switchboard_trunk_up{trunk=\"closed\"}") == 0);
    CHECK(metricValue(text, "switchboard_trunk_probe_rtt_seconds{trunk=\"alive\"}") > 0);
    CHECK(metricValue(text,
                      "switchboard_trunk_probes_total{result=\"answered\",trunk=\"alive\"}") >= 3);
    CHECK(metricValue(text, "switchboard_trunk_probes_total{result=\"missed\",trunk=\"closed\"}") >=
          3);
    CHECK(metricValue(text, "switchboard_trunk_probes_total{result=\"missed\",trunk=\"alive\"}") ==
          0);
    CHECK(metricValue(text, "switchboard_trunk_state_changes_total{trunk=\"closed\"}") == 1);
  }

  SECTION("a PBX that stops answering goes down by the probe's own timeout and comes back") {
    responder.answering = false;  // still bound: no ICMP, only silence
    const auto silent_at = Clock::now();
    REQUIRE(loop.runUntil([&] { return prober->states()[0] == HealthState::Down; },
                          milliseconds(3000)));
    // misses x interval (+ jitter, + the last probe's 50 ms): far below nta's 32 s.
    CHECK(Clock::now() - silent_at < milliseconds(1000));
    const auto* down = lastChange("alive", HealthState::Down);
    REQUIRE(down != nullptr);
    INFO("alive went down: " << down->reason);
    CHECK(down->from == HealthState::Up);
    CHECK(contains(down->reason, "3 consecutive misses, last: no answer within 50 ms"));

    responder.answering = true;
    const std::size_t before = changes.size();
    REQUIRE(
        loop.runUntil([&] { return prober->states()[0] == HealthState::Up; }, milliseconds(3000)));
    const auto* up = lastChange("alive", HealthState::Up);
    REQUIRE(up != nullptr);
    CHECK(up->from == HealthState::Down);
    CHECK(contains(up->reason, "2 consecutive answers"));
    CHECK(prober->status("alive")->consecutive_answers >= 2);
    CHECK(changes.size() == before + 1);  // no flapping on the way
    const std::string text = metrics.serialize();
    CHECK(metricValue(text, "switchboard_trunk_probes_total{result=\"missed\",trunk=\"alive\"}") >=
          3);
    CHECK(metricValue(text, "switchboard_trunk_state_changes_total{trunk=\"alive\"}") == 3);
  }

  SECTION("a PBX whose socket closes goes down on ICMP at once and comes back when restarted") {
    responder.stop();
    REQUIRE(loop.runUntil([&] { return prober->states()[0] == HealthState::Down; },
                          milliseconds(3000)));
    const auto* down = lastChange("alive", HealthState::Down);
    REQUIRE(down != nullptr);
    INFO("alive went down: " << down->reason);
    CHECK(contains(down->reason, "transport error: Connection refused (ICMP port unreachable)"));

    REQUIRE(responder.start());
    REQUIRE(
        loop.runUntil([&] { return prober->states()[0] == HealthState::Up; }, milliseconds(3000)));
    CHECK(contains(lastChange("alive", HealthState::Up)->reason, "2 consecutive answers"));
  }

  SECTION("a reload keeps health by name, starts new trunks and stops removed ones") {
    const std::uint64_t sent_before = prober->status("alive")->probes_sent;
    // "closed" goes away, "fresh" comes in first: "alive" moves from index 0 to 1.
    auto reloaded = snapshotOf({trunkSpec("fresh", alive_port, "127.0.0.23"),
                                trunkSpec("alive", alive_port, "127.0.0.21")},
                               metrics);
    prober->apply(*reloaded);
    REQUIRE(prober->states().size() == 2);
    CHECK(prober->states()[0] == HealthState::Unknown);
    CHECK(prober->states()[1] == HealthState::Up);
    CHECK(prober->status("closed") == nullptr);
    CHECK(prober->status("alive")->probes_sent == sent_before);
    REQUIRE(
        loop.runUntil([&] { return prober->states()[0] == HealthState::Up; }, milliseconds(3000)));
    loop.runFor(milliseconds(300));
    CHECK(prober->states()[1] == HealthState::Up);
    CHECK(prober->status("alive")->probes_sent > sent_before);

    // Calls that hit transport errors count as misses at once (TransportError{probe=false}).
    for (int i = 0; i < 3; ++i) prober->callTransportError(1, "TCP reset by peer");
    CHECK(prober->states()[1] == HealthState::Down);
    CHECK(contains(lastChange("alive", HealthState::Down)->reason, "transport error: TCP reset"));
    prober->callTransportError(7, "out of range: ignored");
    REQUIRE(
        loop.runUntil([&] { return prober->states()[1] == HealthState::Up; }, milliseconds(3000)));

    // SIGHUP: probing disabled makes every trunk Up for good and stops the probes.
    sb::core::ProbeConfig off = config;
    off.interval_ms = 0;
    prober->setDefaults(off);
    CHECK(prober->states() == std::vector<HealthState>{HealthState::Up, HealthState::Up});
    const int received = responder.received;
    loop.runFor(milliseconds(300));
    CHECK(responder.received == received);
  }

  prober.reset();  // before the agents (~Prober destroys its transactions)
}

// SPEC §4: each trunk's own probe settings from the routing table over the gateway-wide ones.
TEST_CASE("prober: each trunk's own probe settings over the gateway-wide ones", "[prober][probe]") {
  SofiaLoop loop;
  ProbingAgent gateway(loop.root, sb::test::freePort());
  REQUIRE(gateway.agent != nullptr);
  const int pbx_port = sb::test::freePort();
  const int closed_port = sb::test::freePort();  // nothing listens there: ICMP refused
  OptionsResponder pbx(loop.root, pbx_port);     // a PBX that answers OPTIONS 404
  pbx.status = 404;
  pbx.phrase = "Not Found";

  sb::metrics::Metrics metrics;
  sb::core::ProbeConfig defaults;  // gateway-wide: any answer alive, 3 misses, 2 answers
  defaults.interval_ms = 100;
  defaults.jitter_percent = 20;
  defaults.timeout_ms = 50;
  defaults.down_after = 3;
  defaults.up_after = 2;
  std::vector<Prober::StateChange> changes;
  auto prober = std::make_unique<Prober>(
      gateway.agent, loop.root, defaults, "sip:switchboard@127.0.0.1:5060", metrics,
      [&changes](const Prober::StateChange& change) { changes.push_back(change); });
  auto changeOf = [&changes](const std::string& trunk) -> const Prober::StateChange* {
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
      if (it->trunk == trunk) return &*it;
    }
    return nullptr;
  };

  // "strict": only 200 proves it alive, down at the first miss. "lenient": the defaults.
  // "off": never probed, though nothing listens on its port. "patient": down after 5 misses.
  // "fitted": an interval of its own too short for the gateway's timeout.
  sb::core::TrunkSpec strict = trunkSpec("strict", pbx_port, "127.0.0.31");
  strict.probe.emplace();
  strict.probe->settings.accepted_codes = std::vector<int>{200};
  strict.probe->settings.down_after = 1;
  const sb::core::TrunkSpec lenient = trunkSpec("lenient", pbx_port, "127.0.0.32");
  sb::core::TrunkSpec off = trunkSpec("off", closed_port, "127.0.0.33");
  off.probe.emplace();
  off.probe->settings.enabled = false;
  sb::core::TrunkSpec patient = trunkSpec("patient", closed_port, "127.0.0.34");
  patient.probe.emplace();
  patient.probe->settings.down_after = 5;
  sb::core::TrunkSpec fitted = trunkSpec("fitted", pbx_port, "127.0.0.35");
  fitted.probe.emplace();
  fitted.probe->settings.interval_ms = 100;
  fitted.probe->settings.jitter_percent = 50;  // shortest 50 ms: the 50 ms timeout must drop
  auto snapshot = snapshotOf({strict, lenient, off, patient, fitted}, metrics);
  prober->apply(*snapshot);

  REQUIRE(prober->config("strict") != nullptr);
  CHECK(prober->config("strict")->accepted_codes == std::vector<int>{200});
  CHECK(prober->config("strict")->down_after == 1);
  CHECK(prober->config("strict")->interval_ms == 100);  // the gateway's
  CHECK(*prober->config("lenient") == defaults);
  CHECK_FALSE(prober->config("off")->enabled());
  CHECK(prober->config("patient")->down_after == 5);
  CHECK(prober->config("fitted")->timeout_ms == 49);
  CHECK(prober->config("nosuch") == nullptr);
  // Not probed: Up from the start, and it stays so.
  CHECK(prober->states()[2] == HealthState::Up);

  REQUIRE(loop.runUntil(
      [&] {
        const auto& s = prober->states();
        return s[0] == HealthState::Down && s[1] == HealthState::Up && s[3] == HealthState::Down &&
               s[4] == HealthState::Up;
      },
      milliseconds(5000)));
  const auto* strict_down = changeOf("strict");
  REQUIRE(strict_down != nullptr);
  CHECK(strict_down->to == HealthState::Down);
  CHECK(strict_down->reason == "1 consecutive misses, last: answered 404, not an accepted code");
  const auto* patient_down = changeOf("patient");
  REQUIRE(patient_down != nullptr);
  CHECK(patient_down->to == HealthState::Down);
  CHECK(contains(patient_down->reason, "5 consecutive misses, last: transport error"));
  CHECK(prober->status("lenient")->last_status == 404);
  CHECK(prober->status("lenient")->misses == 0);
  CHECK(prober->status("fitted")->misses == 0);
  loop.runFor(milliseconds(300));
  CHECK(prober->states()[2] == HealthState::Up);
  CHECK(prober->status("off")->probes_sent == 0);
  CHECK(prober->status("off")->misses == 0);
  CHECK(changeOf("off") == nullptr);

  SECTION("SIGHUP: new gateway-wide settings apply under each trunk's own") {
    sb::core::ProbeConfig only200 = defaults;
    only200.accepted_codes = {200};
    prober->setDefaults(only200);
    CHECK(prober->config("lenient")->accepted_codes == std::vector<int>{200});
    CHECK(prober->config("patient")->down_after == 5);  // its own stays
    CHECK_FALSE(prober->config("off")->enabled());
    REQUIRE(loop.runUntil([&] { return prober->states()[1] == HealthState::Down; },
                          milliseconds(3000)));
    CHECK(changeOf("lenient")->reason ==
          "3 consecutive misses, last: answered 404, not an accepted code");
    CHECK(prober->states()[2] == HealthState::Up);
  }
  SECTION("a reload that drops a trunk's own settings brings the defaults back to it") {
    sb::core::TrunkSpec relaxed = strict;
    relaxed.probe.reset();
    sb::core::TrunkSpec probed = off;
    probed.probe.reset();  // now probed with the defaults: its port is closed
    auto reloaded = snapshotOf({relaxed, lenient, probed, patient, fitted}, metrics);
    prober->apply(*reloaded);
    CHECK(*prober->config("strict") == defaults);
    CHECK(prober->states()[0] == HealthState::Down);     // health carried over by name
    CHECK(prober->states()[2] == HealthState::Unknown);  // probing enabled: no verdict yet
    REQUIRE(loop.runUntil(
        [&] {
          return prober->states()[0] == HealthState::Up && prober->states()[2] == HealthState::Down;
        },
        milliseconds(3000)));
    CHECK(changeOf("strict")->reason == "2 consecutive answers, last 404");
    CHECK(contains(changeOf("off")->reason, "3 consecutive misses, last: transport error"));
  }

  prober.reset();  // before the agents (~Prober destroys its transactions)
}
