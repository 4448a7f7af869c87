// The admin HTTP listener (libevent evhttp on its own thread): health, readiness, status
// and /metrics. It talks to the rest of the gateway only through the narrow Control
// interface, whose calls must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

struct event_base;
struct evhttp;

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
  std::string body;
};

struct Control {
  std::function<bool()> ready;                             // tables loaded and SIP listening
  std::function<std::string()> status_json;                // a JSON object
  std::function<std::string()> metrics_text;               // Prometheus text exposition
  std::function<HttpAnswer(const ExplainQuery&)> explain;  // JSON of core::explainJson
};

class AdminServer {
 public:
  explicit AdminServer(Control control);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  bool start(const std::string& host, int port, std::string& error);
  void stop();

 private:
  Control control_;
  event_base* base_ = nullptr;
  evhttp* http_ = nullptr;
  std::thread thread_;
};

}  // namespace sb::admin
