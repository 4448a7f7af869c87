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

void reply(evhttp_request* req, int code, const char* type, const std::string& body) {
  const char* reason = code == 200   ? "OK"
                       : code == 400 ? "Bad Request"
                       : code == 401 ? "Unauthorized"
                       : code == 403 ? "Forbidden"
                       : code == 404 ? "Not Found"
                       : code == 405 ? "Method Not Allowed"
                       : code == 503 ? "Service Unavailable"
                                     : "Error";
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  if (code == 401) evhttp_add_header(headers, "WWW-Authenticate", "Bearer realm=\"switchboard\"");
  evbuffer* buf = evbuffer_new();
  evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(req, code, reason, buf);
  evbuffer_free(buf);
}

void replyJson(evhttp_request* req, const HttpAnswer& answer) {
  reply(req, answer.status, "application/json",
        answer.body.empty() || answer.body.back() != '\n' ? answer.body + "\n" : answer.body);
}

std::string jsonError(const std::string& message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"}";
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
    replyJson(req, {400, jsonError("bad query string")});
    return;
  }
  ExplainQuery eq{queryValue(query, "uri"), queryValue(query, "caller"), queryValue(query, "topic"),
                  queryValue(query, "time")};
  evhttp_clear_headers(&query);
  if (eq.uri.empty()) {
    replyJson(req, {400, jsonError("uri is required, e.g. ?uri=sip:12333320500@gateway")});
    return;
  }
  replyJson(req, control.explain ? control.explain(eq) : HttpAnswer{503, jsonError("unavailable")});
}

void dispatchCallback(evhttp_request* req, void* arg) {
  static_cast<AdminServer*>(arg)->handle(req);
}

}  // namespace

bool sameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

AdminServer::AdminServer(Control control, std::string token)
    : control_(std::move(control)), token_(std::move(token)) {}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::authorized(evhttp_request* req) const {
  const char* auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
  if (!auth || std::strncmp(auth, "Bearer ", 7) != 0) return false;
  return sameSecret(auth + 7, token_);
}

void AdminServer::handle(evhttp_request* req) {
  const char* raw = evhttp_request_get_uri(req);
  std::string path = raw ? raw : "/";
  auto q = path.find('?');
  if (q != std::string::npos) path.resize(q);
  const bool get = evhttp_request_get_command(req) == EVHTTP_REQ_GET;
  const bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;

  if (post) {
    // Changing endpoints: token first, so nothing about them leaks without it.
    if (token_.empty()) {
      replyJson(req,
                {403, jsonError("changing endpoints are disabled: no admin token configured")});
      return;
    }
    if (!authorized(req)) {
      replyJson(req, {401, jsonError("missing or wrong bearer token")});
      return;
    }
    const std::string trunks = "/api/v1/trunks/";
    if (path.rfind(trunks, 0) == 0) {
      std::string rest = path.substr(trunks.size());
      auto slash = rest.find('/');
      if (slash != std::string::npos && control_.set_trunk_state) {
        std::string name = rest.substr(0, slash);
        std::string action = rest.substr(slash + 1);
        const char* state = action == "drain"     ? "draining"
                            : action == "enable"  ? "enabled"
                            : action == "disable" ? "disabled"
                                                  : nullptr;
        if (state) {
          replyJson(req, control_.set_trunk_state(name, state));
          return;
        }
      }
    } else if (path == "/api/v1/tables/reload" && control_.reload_tables) {
      replyJson(req, control_.reload_tables());
      return;
    } else if (path == "/api/v1/config/reload" && control_.reload_config) {
      replyJson(req, control_.reload_config());
      return;
    }
    replyJson(req, {404, jsonError("no such action")});
    return;
  }
  if (!get) {
    replyJson(req, {405, jsonError("method not allowed")});
    return;
  }
  if (path == "/healthz") {
    reply(req, 200, "text/plain", "ok\n");
  } else if (path == "/readyz") {
    bool ready = control_.ready && control_.ready();
    reply(req, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
  } else if (path == "/api/v1/status") {
    reply(req, 200, "application/json", control_.status_json ? control_.status_json() : "{}\n");
  } else if (path == "/api/v1/trunks" && control_.trunks_json) {
    replyJson(req, control_.trunks_json());
  } else if (path.rfind("/api/v1/trunks/", 0) == 0 && control_.trunk_json) {
    replyJson(req, control_.trunk_json(path.substr(std::strlen("/api/v1/trunks/"))));
  } else if (path == "/api/v1/route/explain") {
    handleExplain(req, control_);
  } else if (path == "/metrics") {
    reply(req, 200, "text/plain; version=0.0.4",
          control_.metrics_text ? control_.metrics_text() : "");
  } else if ((path == "/" || path == "/index.html") && control_.status_page) {
    reply(req, 200, "text/html; charset=utf-8", control_.status_page());
  } else {
    reply(req, 404, "text/plain", "not found\n");
  }
}

bool AdminServer::start(const std::string& host, int port, std::string& error) {
  evthread_use_pthreads();  // loopbreak comes from another thread
  base_ = event_base_new();
  http_ = base_ ? evhttp_new(base_) : nullptr;
  if (!http_) {
    error = "cannot create admin HTTP server";
    return false;
  }
  evhttp_set_gencb(http_, &dispatchCallback, this);
  evhttp_set_timeout(http_, 10);
  evhttp_set_max_body_size(http_, 64 * 1024);
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
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
