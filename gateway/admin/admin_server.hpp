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

struct Control {
  std::function<bool()> ready;                // tables loaded and SIP listening
  std::function<std::string()> status_json;   // a JSON object
  std::function<std::string()> metrics_text;  // Prometheus text exposition
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
