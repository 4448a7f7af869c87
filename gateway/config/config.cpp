#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

namespace sb::config {
namespace {

// Collects errors with file:line and reads typed values out of a YAML map, refusing keys
// it does not know.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  void error(const YAML::Node& node, const std::string& message) {
    int line = node.IsDefined() ? node.Mark().line + 1 : 0;
    if (line > 0) {
      errors_.push_back(source_ + ":" + std::to_string(line) + ": " + message);
    } else {
      errors_.push_back(source_ + ": " + message);
    }
  }

  // Calls handlers[key] for every key of `map`; an unknown key is an error.
  void forEach(const YAML::Node& map, const std::string& where,
               const std::map<std::string, std::function<void(const YAML::Node&)>>& handlers) {
    if (!map.IsMap()) {
      error(map, where + " must be a mapping");
      return;
    }
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      auto it = handlers.find(key);
      if (it == handlers.end()) {
        error(kv.first, "unknown key '" + key + "' in " + where);
        continue;
      }
      it->second(kv.second);
    }
  }

  void readString(const YAML::Node& node, const std::string& name, std::string& out) {
    if (!node.IsScalar()) {
      error(node, name + " must be a string");
      return;
    }
    out = node.Scalar();
  }

  void readUint(const YAML::Node& node, const std::string& name, std::uint32_t& out,
                std::uint32_t min, std::uint32_t max) {
    std::uint64_t value = 0;
    if (!parseUint(node, value) || value < min || value > max) {
      error(node, name + " must be an integer in [" + std::to_string(min) + ", " +
                      std::to_string(max) + "]");
      return;
    }
    out = static_cast<std::uint32_t>(value);
  }

  void readBool(const YAML::Node& node, const std::string& name, bool& out) {
    if (node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false")) {
      out = node.Scalar() == "true";
      return;
    }
    error(node, name + " must be true or false");
  }

  void readPort(const YAML::Node& node, const std::string& name, int& out) {
    std::uint32_t value = 0;
    readUint(node, name, value, 0, 65535);
    out = static_cast<int>(value);
  }

  std::vector<std::string> takeErrors() { return std::move(errors_); }
  bool ok() const { return errors_.empty(); }

 private:
  static bool parseUint(const YAML::Node& node, std::uint64_t& out) {
    if (!node.IsScalar()) return false;
    const std::string& s = node.Scalar();
    if (s.empty() || s.size() > 10) return false;
    std::uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
  }

  std::string source_;
  std::vector<std::string> errors_;
};

bool splitHostPort(const std::string& text, std::string& host, int& port) {
  std::string rest;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    rest = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return false;
    host = text.substr(0, colon);
    rest = text.substr(colon + 1);
  }
  if (host.empty() || rest.empty() || rest.size() > 5) return false;
  int p = 0;
  for (char c : rest) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return false;
  port = p;
  return true;
}

void parseInto(const YAML::Node& root, Reader& r, GatewayConfig& cfg) {
  if (root.IsNull()) {
    r.error(root, "empty configuration");
    return;
  }
  r.forEach(
      root, "gateway.yaml",
      {
          {"sip",
           [&](const YAML::Node& n) {
             SipConfig& s = cfg.sip;
             r.forEach(
                 n, "sip",
                 {
                     {"listen",
                      [&](const YAML::Node& l) {
                        if (!l.IsSequence() || l.size() == 0) {
                          r.error(
                              l,
                              "sip.listen must be a non-empty list like [\"udp:127.0.0.1:5060\"]");
                          return;
                        }
                        for (const auto& item : l) {
                          auto addr = item.IsScalar() ? parseListen(item.Scalar()) : std::nullopt;
                          if (!addr) {
                            r.error(item,
                                    "bad listen address (want udp:HOST:PORT or tcp:HOST:PORT)");
                            continue;
                          }
                          s.listen.push_back(*addr);
                        }
                      }},
                     {"server_name",
                      [&](const YAML::Node& v) {
                        r.readString(v, "sip.server_name", s.server_name);
                      }},
                     {"max_in_progress",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.max_in_progress", s.max_in_progress, 1, 10000000);
                      }},
                     {"retry_after_s",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.retry_after_s", s.retry_after_s, 1, 86400);
                      }},
                     {"failover_timeout_ms",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.failover_timeout_ms", s.failover_timeout_ms, 50, 120000);
                      }},
                     {"ring_timeout_s",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.ring_timeout_s", s.ring_timeout_s, 1, 3600);
                      }},
                     {"max_call_duration_s",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.max_call_duration_s", s.max_call_duration_s, 1,
                                   7 * 86400);
                      }},
                     {"drain_timeout_s",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.drain_timeout_s", s.drain_timeout_s, 0, 3600);
                      }},
                     {"t1_ms",
                      [&](const YAML::Node& v) { r.readUint(v, "sip.t1_ms", s.t1_ms, 10, 10000); }},
                     {"t2_ms",
                      [&](const YAML::Node& v) { r.readUint(v, "sip.t2_ms", s.t2_ms, 10, 60000); }},
                     {"t4_ms",
                      [&](const YAML::Node& v) { r.readUint(v, "sip.t4_ms", s.t4_ms, 10, 60000); }},
                     {"probe",
                      [&](const YAML::Node& pn) {
                        ProbeSettings& ps = s.probe;
                        r.forEach(
                            pn, "sip.probe",
                            {
                                {"interval_ms",
                                 [&](const YAML::Node& v) {
                                   r.readUint(v, "sip.probe.interval_ms", ps.interval_ms, 0,
                                              3600000);
                                 }},
                                {"jitter_percent",
                                 [&](const YAML::Node& v) {
                                   r.readUint(v, "sip.probe.jitter_percent", ps.jitter_percent, 0,
                                              50);
                                 }},
                                {"timeout_ms",
                                 [&](const YAML::Node& v) {
                                   r.readUint(v, "sip.probe.timeout_ms", ps.timeout_ms, 10, 60000);
                                 }},
                                {"down_after",
                                 [&](const YAML::Node& v) {
                                   r.readUint(v, "sip.probe.down_after", ps.down_after, 1, 100);
                                 }},
                                {"up_after",
                                 [&](const YAML::Node& v) {
                                   r.readUint(v, "sip.probe.up_after", ps.up_after, 1, 100);
                                 }},
                                {"accepted_codes",
                                 [&](const YAML::Node& v) {
                                   if (!v.IsSequence()) {
                                     r.error(
                                         v, "sip.probe.accepted_codes must be a list of SIP codes");
                                     return;
                                   }
                                   for (const auto& c : v) {
                                     std::uint32_t code = 0;
                                     r.readUint(c, "sip.probe.accepted_codes item", code, 100, 699);
                                     ps.accepted_codes.push_back(static_cast<int>(code));
                                   }
                                 }},
                            });
                      }},
                     {"udp_buffer_bytes",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.udp_buffer_bytes", s.udp_buffer_bytes, 65536, 1 << 30);
                      }},
                     {"source_acl",
                      [&](const YAML::Node& v) { r.readBool(v, "sip.source_acl", s.source_acl); }},
                     {"flood_rate",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.flood_rate", s.flood_rate, 1, 1000000);
                      }},
                     {"flood_burst",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.flood_burst", s.flood_burst, 1, 1000000);
                      }},
                     {"workers",
                      [&](const YAML::Node& v) { r.readUint(v, "sip.workers", s.workers, 0, 64); }},
                     {"worker_port_offset",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.worker_port_offset", s.worker_port_offset, 1, 60000);
                      }},
                     {"max_message_bytes",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "sip.max_message_bytes", s.max_message_bytes, 1024, 1 << 20);
                      }},
                 });
           }},
          {"redis",
           [&](const YAML::Node& n) {
             RedisConfig& rc = cfg.redis;
             r.forEach(
                 n, "redis",
                 {
                     {"address",
                      [&](const YAML::Node& v) {
                        std::string text;
                        r.readString(v, "redis.address", text);
                        int port = 0;
                        std::string host;
                        if (!text.empty() && !splitHostPort(text, host, port)) {
                          r.error(v, "redis.address must be HOST:PORT");
                          return;
                        }
                        rc.host = host;
                        rc.port = port;
                      }},
                     {"prefix",
                      [&](const YAML::Node& v) { r.readString(v, "redis.prefix", rc.prefix); }},
                     {"poll_interval_ms",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "redis.poll_interval_ms", rc.poll_interval_ms, 100, 3600000);
                      }},
                     {"cluster_interval_ms",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "redis.cluster_interval_ms", rc.cluster_interval_ms, 50,
                                   60000);
                      }},
                     {"lease_ms",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "redis.lease_ms", rc.lease_ms, 200, 3600000);
                      }},
                     {"reconnect_ms",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "redis.reconnect_ms", rc.reconnect_ms, 10, 600000);
                      }},
                 });
           }},
          {"records",
           [&](const YAML::Node& n) {
             RecordsConfig& rc = cfg.records;
             r.forEach(
                 n, "records",
                 {
                     {"stream",
                      [&](const YAML::Node& v) { r.readBool(v, "records.stream", rc.stream); }},
                     {"stream_maxlen",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "records.stream_maxlen", rc.stream_maxlen, 1000, 1000000000);
                      }},
                     {"queue_max",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "records.queue_max", rc.queue_max, 1, 10000000);
                      }},
                     {"batch",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "records.batch", rc.batch, 1, 10000);
                      }},
                     {"file",
                      [&](const YAML::Node& v) { r.readString(v, "records.file", rc.file); }},
                     {"spill_file",
                      [&](const YAML::Node& v) {
                        r.readString(v, "records.spill_file", rc.spill_file);
                      }},
                     {"file_max_bytes",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "records.file_max_bytes", rc.file_max_bytes, 4096,
                                   4000000000u);
                      }},
                     {"file_keep",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "records.file_keep", rc.file_keep, 0, 1000);
                      }},
                     {"flush_timeout_ms",
                      [&](const YAML::Node& v) {
                        r.readUint(v, "records.flush_timeout_ms", rc.flush_timeout_ms, 0, 60000);
                      }},
                 });
           }},
          {"metrics",
           [&](const YAML::Node& n) {
             r.forEach(n, "metrics",
                       {
                           {"listen",
                            [&](const YAML::Node& v) {
                              auto hp = v.IsScalar() ? parseHostPort(v.Scalar()) : std::nullopt;
                              if (!hp) {
                                r.error(v, "metrics.listen must be HOST:PORT");
                                return;
                              }
                              cfg.metrics = *hp;
                            }},
                       });
           }},
          {"admin",
           [&](const YAML::Node& n) {
             r.forEach(n, "admin",
                       {
                           {"listen",
                            [&](const YAML::Node& v) {
                              auto hp = v.IsScalar() ? parseHostPort(v.Scalar()) : std::nullopt;
                              if (!hp) {
                                r.error(v, "admin.listen must be HOST:PORT");
                                return;
                              }
                              cfg.admin = *hp;
                            }},
                           {"token_file",
                            [&](const YAML::Node& v) {
                              r.readString(v, "admin.token_file", cfg.admin_token_file);
                              std::ifstream in(cfg.admin_token_file);
                              std::string token;
                              if (!in || !std::getline(in, token) || token.size() < 16) {
                                r.error(v,
                                        "admin.token_file must name a readable file whose first "
                                        "line is a token of at least 16 characters");
                                return;
                              }
                              cfg.admin_token = token;
                            }},
                       });
           }},
          {"log",
           [&](const YAML::Node& n) {
             r.forEach(n, "log",
                       {
                           {"level",
                            [&](const YAML::Node& v) {
                              r.readString(v, "log.level", cfg.log.level);
                              if (cfg.log.level != "debug" && cfg.log.level != "info" &&
                                  cfg.log.level != "warn" && cfg.log.level != "error") {
                                r.error(v, "log.level must be one of debug, info, warn, error");
                              }
                            }},
                       });
           }},
      });
  if (cfg.sip.listen.empty() && r.ok()) r.error(root, "sip.listen is required");
  if (cfg.sip.probe.interval_ms != 0 && cfg.sip.probe.timeout_ms >= cfg.sip.probe.interval_ms) {
    r.error(root, "sip.probe.timeout_ms must be below sip.probe.interval_ms");
  }
  if (cfg.redis.lease_ms <= 2 * cfg.redis.cluster_interval_ms) {
    r.error(root, "redis.lease_ms must exceed two redis.cluster_interval_ms");
  }
  if (cfg.sip.t2_ms < cfg.sip.t1_ms) r.error(root, "sip.t2_ms must not be below sip.t1_ms");
  if (cfg.sip.workers == 0) {
    cfg.sip.workers = std::max(1u, std::thread::hardware_concurrency());
  }
  if (cfg.sip.workers > 1) {
    auto at = [&root](const char* key) {
      const YAML::Node sip = root["sip"];
      const YAML::Node n = sip[key];
      return n.IsDefined() ? n : sip;
    };
    // Every worker's private port, and its admin and metrics port (port + worker index),
    // must exist and must not be one of the shared listen ports.
    for (const auto& l : cfg.sip.listen) {
      const long first = static_cast<long>(l.port) + cfg.sip.worker_port_offset;
      const long last = first + cfg.sip.workers - 1;
      if (l.port == 0 || last > 65535) {
        r.error(at("workers"), "sip.workers: the private ports of listen port " +
                                   std::to_string(l.port) + " (" + std::to_string(first) + "-" +
                                   std::to_string(last) + ") must be fixed ports up to 65535");
        break;
      }
      for (const auto& other : cfg.sip.listen) {
        if (other.port >= first && other.port <= last) {
          r.error(at("worker_port_offset"), "sip.worker_port_offset: worker port " +
                                                std::to_string(other.port) +
                                                " is also a listen port");
        }
      }
    }
    for (const HttpListen* h : {&cfg.metrics, &cfg.admin}) {
      if (h->port != 0 && h->port + static_cast<long>(cfg.sip.workers) - 1 > 65535) {
        r.error(at("workers"), "sip.workers: one " +
                                   std::string(h == &cfg.metrics ? "metrics" : "admin") +
                                   " port per worker (port + index) must stay below 65536");
      }
    }
  }
  if (!cfg.records.stream && cfg.records.file.empty()) {
    r.error(root["records"],
            "records.stream: false needs records.file (else every record is lost)");
  }
}

}  // namespace

std::string transportName(Transport t) { return t == Transport::Tcp ? "tcp" : "udp"; }

std::optional<ListenAddress> parseListen(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string proto = text.substr(0, colon);
  ListenAddress out;
  if (proto == "udp") {
    out.transport = Transport::Udp;
  } else if (proto == "tcp") {
    out.transport = Transport::Tcp;
  } else {
    return std::nullopt;
  }
  if (!splitHostPort(text.substr(colon + 1), out.host, out.port)) return std::nullopt;
  return out;
}

std::optional<HttpListen> parseHostPort(const std::string& text) {
  HttpListen out;
  if (!splitHostPort(text, out.host, out.port)) return std::nullopt;
  return out;
}

ConfigResult loadConfigText(const std::string& text, const std::string& source_name) {
  ConfigResult result;
  GatewayConfig cfg;
  cfg.source = source_name;
  Reader reader(source_name);
  try {
    YAML::Node root = YAML::Load(text);
    parseInto(root, reader, cfg);
  } catch (const YAML::Exception& e) {
    result.errors.push_back(source_name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    return result;
  }
  if (const char* pw = std::getenv("SWITCHBOARD_REDIS_PASSWORD")) cfg.redis.password = pw;
  if (const char* tk = std::getenv("SWITCHBOARD_ADMIN_TOKEN"); tk && cfg.admin_token.empty()) {
    cfg.admin_token = tk;
  }
  result.errors = reader.takeErrors();
  if (result.errors.empty()) result.config = std::move(cfg);
  return result;
}

ConfigResult loadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ConfigResult result;
    result.errors.push_back(path + ": cannot read file");
    return result;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return loadConfigText(buf.str(), path);
}

}  // namespace sb::config
