#include "admin/admin_server.hpp"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <sys/queue.h>

#include <cstring>

namespace sb::admin {
namespace {

void reply(evhttp_request* req, int code, const char* reason, const char* type,
           const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, code, reason, buf);
  evbuffer_free(buf);
}

std::string queryValue(const evkeyvalq& query, const char* key) {
  const char* v = evhttp_find_header(&query, key);
  return v ? std::string(v) : std::string();
}

void handleExplain(evhttp_request* req, Control& control) {
  evkeyvalq query;
  TAILQ_INIT(&query);
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* q = uri ? evhttp_uri_get_query(uri) : nullptr;
  if (q && evhttp_parse_query_str(q, &query) != 0) {
    reply(req, 400, "Bad Request", "application/json", "{\"error\":\"bad query string\"}\n");
    return;
  }
  ExplainQuery eq{queryValue(query, "uri"), queryValue(query, "caller"), queryValue(query, "topic"),
                  queryValue(query, "time")};
  evhttp_clear_headers(&query);
  if (eq.uri.empty()) {
    reply(req, 400, "Bad Request", "application/json",
          "{\"error\":\"uri is required, e.g. ?uri=sip:12333320500@gateway\"}\n");
    return;
  }
  HttpAnswer answer = control.explain ? control.explain(eq) : HttpAnswer{503, "{}"};
  reply(req, answer.status, answer.status == 200 ? "OK" : "Error", "application/json",
        answer.body + "\n");
}

void handle(evhttp_request* req, void* arg) {
  auto* control = static_cast<Control*>(arg);
  const char* uri = evhttp_request_get_uri(req);
  std::string path = uri ? uri : "/";
  auto q = path.find('?');
  if (q != std::string::npos) path.resize(q);
  if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
    reply(req, 405, "Method Not Allowed", "text/plain", "method not allowed\n");
    return;
  }
  if (path == "/healthz") {
    reply(req, 200, "OK", "text/plain", "ok\n");
  } else if (path == "/readyz") {
    bool ready = control->ready && control->ready();
    reply(req, ready ? 200 : 503, ready ? "OK" : "Service Unavailable", "text/plain",
          ready ? "ready\n" : "not ready\n");
  } else if (path == "/api/v1/status") {
    reply(req, 200, "OK", "application/json", control->status_json ? control->status_json() : "{}");
  } else if (path == "/api/v1/route/explain") {
    handleExplain(req, *control);
  } else if (path == "/metrics") {
    reply(req, 200, "OK", "text/plain; version=0.0.4",
          control->metrics_text ? control->metrics_text() : "");
  } else {
    reply(req, 404, "Not Found", "text/plain", "not found\n");
  }
}

}  // namespace

AdminServer::AdminServer(Control control) : control_(std::move(control)) {}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::start(const std::string& host, int port, std::string& error) {
  evthread_use_pthreads();  // loopbreak comes from another thread
  base_ = event_base_new();
  http_ = base_ ? evhttp_new(base_) : nullptr;
  if (!http_) {
    error = "cannot create admin HTTP server";
    return false;
  }
  evhttp_set_gencb(http_, &handle, &control_);
  evhttp_set_timeout(http_, 10);
  if (evhttp_bind_socket(http_, host.c_str(), static_cast<ev_uint16_t>(port)) != 0) {
    error =
        "cannot listen on admin " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    evhttp_free(http_);
    http_ = nullptr;
    event_base_free(base_);
    base_ = nullptr;
    return false;
  }
  thread_ = std::thread([this] { event_base_dispatch(base_); });
  return true;
}

void AdminServer::stop() {
  if (base_) {
    event_base_loopbreak(base_);
    if (thread_.joinable()) thread_.join();
    if (http_) evhttp_free(http_);
    event_base_free(base_);
    http_ = nullptr;
    base_ = nullptr;
  }
}

}  // namespace sb::admin
