// The admin HTTP listener (libevent evhttp on its own thread): health, readiness, status,
// trunks and their live state, drain/enable/disable, route dry-run, reloads, /metrics and
// the status page. It talks to the rest of the gateway only through the narrow Control
// interface, whose calls must be thread-safe. SPEC §8; issue 5 item 4.
//
// Changing endpoints (POST) require `Authorization: Bearer <token>`; a missing or wrong
// token gets 401 and changes nothing. With no token configured they are refused (403).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

struct event_base;
struct evhttp;
struct evhttp_request;

namespace sb::admin {

// GET /api/v1/route/explain?uri=sip:12333320500@gw&caller=...&topic=...&time=...
struct ExplainQuery {
  std::string uri;
  std::string caller;
  std::string topic;
  std::string time;  // ISO 8601 or unix seconds; empty: now
};

struct HttpAnswer {
  int status = 200;
  std::string body;  // JSON unless said otherwise
};

struct Control {
  std::function<bool()> ready;                               // tables loaded and SIP listening
  std::function<std::string()> status_json;                  // a JSON object
  std::function<std::string()> metrics_text;                 // Prometheus text exposition
  std::function<HttpAnswer(const ExplainQuery&)> explain;    // JSON of core::explainJson
  std::function<HttpAnswer()> trunks_json;                   // every trunk with live state
  std::function<HttpAnswer(const std::string&)> trunk_json;  // one trunk
  // "enabled" | "draining" | "disabled" for a trunk (stored in Redis for all instances).
  std::function<HttpAnswer(const std::string& trunk, const std::string& state)> set_trunk_state;
  std::function<HttpAnswer()> reload_tables;
  std::function<HttpAnswer()> reload_config;
  std::function<std::string()> status_page;  // text/html, self-contained
};

class AdminServer {
 public:
  // `token`: the bearer token for changing endpoints; empty disables them.
  AdminServer(Control control, std::string token);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  bool start(const std::string& host, int port, std::string& error);
  void stop();

  // Internal: one request (public for the libevent callback).
  void handle(evhttp_request* req);

 private:
  bool authorized(evhttp_request* req) const;

  Control control_;
  std::string token_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  std::thread thread_;
};

// Constant-time comparison of secrets.
bool sameSecret(const std::string& a, const std::string& b);

}  // namespace sb::admin
