#include "sip/snapshot.hpp"

namespace sb::sip {

TrunkTarget parseTarget(const std::string& uri) {
  TrunkTarget t;
  std::string rest;
  if (uri.rfind("sips:", 0) == 0) {
    t.secure = true;
    rest = uri.substr(5);
  } else if (uri.rfind("sip:", 0) == 0) {
    rest = uri.substr(4);
  } else {
    return t;
  }
  std::string params;
  auto semi = rest.find(';');
  if (semi != std::string::npos) {
    params = rest.substr(semi);
    rest = rest.substr(0, semi);
  }
  auto at = rest.find('@');
  if (at != std::string::npos) {
    t.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return t;
    t.host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return t;
      t.port = rest.substr(1);
    }
  } else {
    auto colon = rest.find(':');
    t.host = rest.substr(0, colon);
    if (colon != std::string::npos) t.port = rest.substr(colon + 1);
  }
  if (t.host.empty()) return t;
  for (char c : t.port) {
    if (c < '0' || c > '9') return t;
  }
  auto tp = params.find(";transport=");
  if (tp != std::string::npos) {
    auto end = params.find(';', tp + 1);
    t.transport =
        params.substr(tp + 11, end == std::string::npos ? std::string::npos : end - tp - 11);
    for (auto& c : t.transport) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t.transport != "udp" && t.transport != "tcp" && t.transport != "tls") return t;
  }
  t.valid = true;
  return t;
}

std::shared_ptr<const RoutingSnapshot> makeSnapshot(std::shared_ptr<const core::RoutingTable> table,
                                                    metrics::Metrics& metrics, double now_unix) {
  auto snap = std::make_shared<RoutingSnapshot>();
  snap->loaded_unix = now_unix;
  for (const auto& trunk : table->trunks()) {
    snap->trunk_metrics.push_back(metrics.trunk(trunk));
    snap->targets.push_back(trunk.targets.empty() ? TrunkTarget{}
                                                  : parseTarget(trunk.targets.front()));
  }
  snap->table = std::move(table);
  return snap;
}

}  // namespace sb::sip
