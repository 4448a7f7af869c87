// switchboard: the daemon. Threads: the SIP thread (main, su_root) owns the proxy; the
// table watcher thread talks to Redis; the admin thread serves HTTP; prometheus-cpp's
// exposer serves /metrics. Data crosses threads by swapping an immutable snapshot through
// a mailbox that wakes the SIP loop (style: threads own things).
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "admin/admin_server.hpp"
#include "admin/status_page.hpp"
#include "app/supervisor.hpp"
#include "config/config.hpp"
#include "core/admission.hpp"
#include "core/china_time.hpp"
#include "core/decide.hpp"
#include "core/explain.hpp"
#include "core/json_text.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "records/record_writer.hpp"
#include "redis/cluster_state.hpp"
#include "redis/table_store.hpp"
#include "sip/proxy.hpp"
#include "sip/snapshot.hpp"

extern "C" {
extern su_log_t nta_log[];
extern su_log_t tport_log[];
}

namespace {

using namespace sb;

std::atomic<int> g_wake_fd{-1};
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void onSignal(int sig) {
  if (sig == SIGHUP) {
    g_reload = true;
  } else {
    g_stop = true;
  }
  std::uint64_t one = 1;
  int fd = g_wake_fd.load();
  if (fd >= 0) {
    ssize_t n = write(fd, &one, sizeof one);
    (void)n;
  }
}

double nowUnix() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sofia's own log lines, redirected into ours (notes/sofia-sip.md).
void sofiaLog(void*, char const* fmt, va_list ap) {
  static log::RateLimit limit(20);
  if (!log::enabled(log::Level::Debug) && limit.admit() < 0) return;
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string text(buf);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  SB_LOG(log::Level::Warn, log::Line("sofia").kv("msg", text));
}

// Snapshots handed from the watcher thread to the SIP thread.
struct Mailbox {
  std::mutex mutex;
  std::shared_ptr<const sip::RoutingSnapshot> pending;
  std::deque<std::function<void()>> tasks;  // run on the SIP thread, in order
  int fd = -1;
  void wake() {
    std::uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof one);
    (void)n;
  }
  void run(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      tasks.push_back(std::move(task));
    }
    wake();
  }
  std::deque<std::function<void()>> takeTasks() {
    std::lock_guard<std::mutex> lock(mutex);
    return std::exchange(tasks, {});
  }
  void post(std::shared_ptr<const sip::RoutingSnapshot> snap) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      pending = std::move(snap);
    }
    std::uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof one);
    (void)n;
  }
  std::shared_ptr<const sip::RoutingSnapshot> take() {
    std::lock_guard<std::mutex> lock(mutex);
    return std::move(pending);
  }
};

// Runs `f` on the SIP thread and waits (bounded) for its result: how the admin thread reads
// or changes what the SIP thread owns (style: threads own things; work handed over by
// message). nullopt when the SIP thread did not answer in time.
template <typename F>
auto callOnSipThread(Mailbox& mailbox, F f) -> std::optional<decltype(f())> {
  using R = decltype(f());
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  mailbox.run([promise, f = std::move(f)]() mutable { promise->set_value(f()); });
  if (future.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return std::nullopt;
  return future.get();
}

struct App {
  config::GatewayConfig config;
  metrics::Metrics metrics;
  std::unique_ptr<sip::Proxy> proxy;
  std::unique_ptr<redis::TableWatcher> watcher;
  Mailbox mailbox;
  su_root_t* root = nullptr;
  su_timer_t* drain_timer = nullptr;
  std::chrono::steady_clock::time_point drain_deadline;
  std::atomic<std::uint64_t> table_version{0};
  std::atomic<double> table_loaded_at{0};
  std::atomic<bool> table_loaded{false};
  std::atomic<bool> listening{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> redis_up{false};
  std::atomic<std::size_t> in_progress{0};
  std::atomic<std::size_t> established{0};
  std::atomic<std::size_t> live_instances{0};
  redis::RedisAddress redis_address;
  std::unique_ptr<redis::ClusterState> cluster;
  std::unique_ptr<records::RecordWriter> records;
  std::mutex cluster_mutex;
  std::optional<redis::ClusterState::Update> cluster_update;  // latest, for a new table
  // The snapshot in force, for readers off the SIP thread (admin dry-run).
  std::mutex current_mutex;
  std::shared_ptr<const sip::RoutingSnapshot> current;
};

App* g_app = nullptr;

void applyClusterUpdate(App& app, const redis::ClusterState::Update& update);

void drainTick(su_root_magic_t*, su_timer_t*, su_timer_arg_t*) {
  App& app = *g_app;
  app.in_progress = app.proxy->callsInProgress();
  bool idle = app.proxy->callsInProgress() == 0 && app.proxy->establishedCalls() == 0 &&
              app.proxy->relaysInProgress() == 0;
  if (idle || std::chrono::steady_clock::now() >= app.drain_deadline) {
    SB_LOG(log::Level::Info, log::Line("shutdown")
                                 .kv("calls_in_progress", app.proxy->callsInProgress())
                                 .kv("established_calls", app.proxy->establishedCalls())
                                 .kv("deadline_reached", idle ? 0 : 1));
    // Calls still there end now, each as its record (end_reason shutdown).
    app.proxy->endAllCalls();
    su_root_break(app.root);
  }
}

// "records.jsonl" -> "records.w1.jsonl": each worker writes files of its own.
std::string workerFileName(const std::string& path, int index) {
  if (path.empty()) return path;
  const std::string tag = ".w" + std::to_string(index);
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1)) {
    return path + tag;
  }
  return path.substr(0, dot) + tag + path.substr(dot);
}

// Worker `index` of several (sip.workers): its own admin and metrics port (port + index) and
// record files; its private SIP ports follow from sip.worker_index (sip/proxy.cpp).
void applyWorker(config::GatewayConfig& c, int index) {
  if (index < 0) return;
  c.sip.worker_index = index;
  if (c.metrics.port != 0) c.metrics.port += index;
  if (c.admin.port != 0) c.admin.port += index;
  c.records.file = workerFileName(c.records.file, index);
  c.records.spill_file = workerFileName(c.records.spill_file, index);
}

// SIGHUP: re-read gateway.yaml; build aside, validate, swap, keep the last good one.
bool reloadConfig(App& app) {
  config::ConfigResult loaded = config::loadConfigFile(app.config.source);
  if (loaded.config) applyWorker(*loaded.config, app.config.sip.worker_index);
  if (!loaded.config) {
    app.metrics.configReload(false);
    for (const auto& e : loaded.errors) {
      SB_LOG(log::Level::Error, log::Line("config_reload_rejected").kv("error", e));
    }
    return false;
  }
  const config::GatewayConfig& next = *loaded.config;
  auto listenText = [](const config::GatewayConfig& c) {
    std::string out;
    for (const auto& l : c.sip.listen) {
      out += config::transportName(l.transport) + ":" + l.host + ":" + std::to_string(l.port) + " ";
    }
    return out;
  };
  if (listenText(next) != listenText(app.config) || next.redis.host != app.config.redis.host ||
      next.redis.port != app.config.redis.port || next.redis.prefix != app.config.redis.prefix ||
      next.metrics.host != app.config.metrics.host ||
      next.metrics.port != app.config.metrics.port || next.admin.host != app.config.admin.host ||
      next.admin.port != app.config.admin.port || next.records != app.config.records ||
      next.sip.workers != app.config.sip.workers ||
      next.sip.worker_port_offset != app.config.sip.worker_port_offset) {
    SB_LOG(log::Level::Warn,
           log::Line("config_reload_partial")
               .kv("note",
                   "listen addresses, workers, redis and records changes take effect "
                   "after a restart"));
  }
  app.proxy->reconfigure(next.sip);
  log::Level level = log::Level::Info;
  log::parseLevel(next.log.level, level);
  log::setLevel(level);
  std::string source = app.config.source;
  auto listen = app.config.sip.listen;
  const auto workers = app.config.sip.workers;
  const auto worker_port_offset = app.config.sip.worker_port_offset;
  auto redis = app.config.redis;
  auto metrics = app.config.metrics;
  auto admin = app.config.admin;
  auto records = app.config.records;  // the record writer keeps what it started with
  auto token = app.config.admin_token;
  app.config = next;
  app.config.admin_token = token;  // the admin listener keeps the token it started with
  app.config.source = source;
  app.config.sip.listen = listen;
  app.config.sip.workers = workers;
  app.config.sip.worker_port_offset = worker_port_offset;
  app.config.redis = redis;
  app.config.metrics = metrics;
  app.config.admin = admin;
  app.config.records = records;
  app.metrics.configReload(true);
  SB_LOG(log::Level::Info, log::Line("config_reloaded").kv("file", source));
  if (app.watcher) app.watcher->reloadNow();
  return true;
}

int onWake(su_root_magic_t*, su_wait_t* w, su_wakeup_arg_t*) {
  App& app = *g_app;
  std::uint64_t count;
  ssize_t n = read(w->fd, &count, sizeof count);
  (void)n;
  for (auto& task : app.mailbox.takeTasks()) task();
  if (auto snap = app.mailbox.take()) {
    std::uint64_t version = snap->table->version();
    app.proxy->setSnapshot(snap);
    {
      // A new table's trunks take the cluster's admin states at once.
      std::lock_guard<std::mutex> lock(app.cluster_mutex);
      if (app.cluster_update) applyClusterUpdate(app, *app.cluster_update);
    }
    {
      std::lock_guard<std::mutex> lock(app.current_mutex);
      app.current = snap;
    }
    app.table_version = version;
    app.table_loaded_at = snap->loaded_unix;
    app.table_loaded = true;
    app.metrics.tableVersion(version, snap->loaded_unix);
    SB_LOG(log::Level::Info, log::Line("table_swap")
                                 .kv("version", version)
                                 .kv("trunks", snap->table->trunks().size())
                                 .kv("routes", snap->table->routeCount()));
  }
  if (g_reload.exchange(false)) reloadConfig(app);
  if (g_stop.load() && !app.draining.exchange(true)) {
    // Stop taking new calls, let those in progress finish up to a deadline.
    SB_LOG(log::Level::Info,
           log::Line("draining").kv("calls_in_progress", app.proxy->callsInProgress()));
    app.proxy->stopAccepting();
    app.drain_deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(app.config.sip.drain_timeout_s);
    app.drain_timer = su_timer_create(su_root_task(app.root), 100);
    su_timer_set_for_ever(app.drain_timer, &drainTick, nullptr);
  }
  return 0;
}

void statusTick(su_root_magic_t*, su_timer_t*, su_timer_arg_t*) {
  g_app->in_progress = g_app->proxy->callsInProgress();
  g_app->established = g_app->proxy->establishedCalls();
  // This instance's calls per trunk, for the other instances' capacity view.
  if (g_app->cluster) g_app->cluster->setLocalCalls(g_app->proxy->localCalls());
}

std::string statusJson(App& app) {
  std::ostringstream out;
  out << "{\"ready\":" << (app.table_loaded && app.listening && !app.draining ? "true" : "false")
      << ",\"draining\":" << (app.draining ? "true" : "false")
      << ",\"redis_up\":" << (app.redis_up ? "true" : "false")
      << ",\"routing_table_version\":" << app.table_version.load()
      << ",\"routing_table_loaded_at\":" << static_cast<long long>(app.table_loaded_at.load())
      << ",\"calls_in_progress\":" << app.in_progress.load()
      << ",\"established_calls\":" << app.established.load()
      << ",\"live_instances\":" << app.live_instances.load() << "}\n";
  return out.str();
}

// The admin API's route dry-run: the same core::decide the SIP thread runs, on the same
// snapshot, rendered by core::explainJson (as `switchboardctl route explain --json`).
admin::HttpAnswer explainRoute(App& app, const admin::ExplainQuery& q) {
  std::shared_ptr<const sip::RoutingSnapshot> snap;
  {
    std::lock_guard<std::mutex> lock(app.current_mutex);
    snap = app.current;
  }
  if (!snap) return {503, "{\"error\":\"routing tables not loaded\"}"};
  core::DecideInput input;
  std::string user = core::userOfUri(q.uri);
  input.dialled = user;
  input.caller = q.caller;
  input.topic = q.topic;
  if (q.time.empty()) {
    input.now_unix = static_cast<std::int64_t>(nowUnix());
  } else if (auto t = core::parseTimeText(q.time)) {
    input.now_unix = *t;
  } else {
    return {400,
            "{\"error\":\"time must be ISO 8601 (2026-11-24T09:00:00+08:00) or unix seconds\"}"};
  }
  input.random = 0;
  core::Decision decision = core::decide(*snap->table, input);
  return {200, core::explainJson(*snap->table, input, decision)};
}

// Admin state goes to Redis first so every instance (and a restart) agrees; the cluster
// watcher then applies it everywhere, this instance at once.
bool storeAdminState(App& app, const std::string& trunk, core::AdminState state,
                     std::string& error) {
  return redis::ClusterState::setAdminState(app.redis_address, trunk, state, error);
}

// A round of the cluster view, applied on the SIP thread: admin states (absent = enabled)
// and the calls other live instances hold, per trunk of the table in force.
void applyClusterUpdate(App& app, const redis::ClusterState::Update& update) {
  app.proxy->setInstances(update.live_instances);  // trunks' cps shared by the live instances
  const sip::RoutingSnapshot* snap = app.proxy->snapshot();
  if (!snap) return;
  for (const auto& t : snap->table->trunks()) {
    auto a = update.admin.find(t.name);
    app.proxy->setAdminState(t.name,
                             a == update.admin.end() ? core::AdminState::Enabled : a->second);
    auto c = update.calls_elsewhere.find(t.name);
    app.proxy->setCallsElsewhere(t.name, c == update.calls_elsewhere.end() ? 0 : c->second);
  }
  app.live_instances = update.live_instances;
}

void usage() {
  std::cout << "usage: switchboard --config FILE [--check-config]\n"
               "  --config FILE     gateway.yaml to run with\n"
               "  --check-config    validate FILE, print errors with file:line, exit\n"
               "  (--worker I       internal: started by the supervisor when sip.workers > 1)\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  int worker_index = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg == "--worker" && i + 1 < argc) {
      const std::string text = argv[++i];
      char* end = nullptr;
      const long index = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || index < 0 || index > 63) {
        std::cerr << "switchboard: --worker needs an index 0..63\n";
        return 2;
      }
      worker_index = static_cast<int>(index);
    } else if (arg == "--check-config") {
      check_only = true;
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    } else {
      std::cerr << "switchboard: unknown argument '" << arg << "'\n";
      usage();
      return 2;
    }
  }
  if (config_path.empty()) {
    usage();
    return 2;
  }
  config::ConfigResult loaded = config::loadConfigFile(config_path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e << "\n";
    return 1;
  }
  if (check_only) {
    std::cout << config_path << ": ok\n";
    return 0;
  }
  if (worker_index < 0 && loaded.config->sip.workers > 1) {
    log::Level supervisor_level = log::Level::Info;
    log::parseLevel(loaded.config->log.level, supervisor_level);
    log::setLevel(supervisor_level);
    char self[4096] = {};
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    return app::superviseWorkers(n > 0 ? std::string(self, static_cast<std::size_t>(n)) : argv[0],
                                 config_path, loaded.config->sip.workers);
  }
  if (worker_index >= 0 && static_cast<unsigned>(worker_index) >= loaded.config->sip.workers) {
    std::cerr << "switchboard: --worker " << worker_index << " but sip.workers is "
              << loaded.config->sip.workers << "\n";
    return 2;
  }
  applyWorker(*loaded.config, worker_index);
  if (worker_index >= 0) log::setProcessTag("worker=" + std::to_string(worker_index) + " ");

  App app;
  g_app = &app;
  app.config = *loaded.config;
  log::Level level = log::Level::Info;
  log::parseLevel(app.config.log.level, level);
  log::setLevel(level);

  su_init();
  su_log_redirect(nullptr, &sofiaLog, nullptr);
  su_log_redirect(nta_log, &sofiaLog, nullptr);
  su_log_redirect(tport_log, &sofiaLog, nullptr);
  // P-Asserted-Identity and the other extension headers are parsed, not left unknown.
  sip_update_default_mclass(sip_extend_mclass(nullptr));
  app.root = su_root_create(nullptr);

  int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  app.mailbox.fd = wake;
  g_wake_fd = wake;
  su_wait_t wait_obj;
  su_wait_create(&wait_obj, wake, SU_WAIT_IN);
  int wake_index = su_root_register(app.root, &wait_obj, &onWake, nullptr, 0);
  std::signal(SIGTERM, &onSignal);
  std::signal(SIGINT, &onSignal);
  std::signal(SIGHUP, &onSignal);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<prometheus::Exposer> exposer;
  if (app.config.metrics.port != 0) {
    try {
      std::string addr =
          app.config.metrics.host.find(':') != std::string::npos
              ? "[" + app.config.metrics.host + "]:" + std::to_string(app.config.metrics.port)
              : app.config.metrics.host + ":" + std::to_string(app.config.metrics.port);
      exposer = std::make_unique<prometheus::Exposer>(addr, 2);
      // Values computed at scrape (table age, process_*, record counters) are refreshed first.
      exposer->RegisterCollectable(app.metrics.collectable());
    } catch (const std::exception& e) {
      SB_LOG(log::Level::Error, log::Line("metrics_listen_failed").kv("error", e.what()));
      return 1;
    }
  }

  const std::string instance_id = redis::makeInstanceId();
  {
    // SPEC §6: call records, written by their own thread; the SIP thread only queues them.
    records::WriterConfig wc;
    wc.redis.host = app.config.redis.host;
    wc.redis.port = app.config.redis.port;
    wc.redis.password = app.config.redis.password;
    wc.redis.prefix = app.config.redis.prefix;
    const config::RecordsConfig& rc = app.config.records;
    wc.redis_enabled = rc.stream;
    wc.stream_maxlen = rc.stream_maxlen;
    wc.queue_max = rc.queue_max;
    wc.batch = rc.batch;
    wc.file = rc.file;
    wc.spill_file = rc.spill_file;
    wc.file_max_bytes = rc.file_max_bytes;
    wc.file_keep = rc.file_keep;
    wc.flush_timeout = std::chrono::milliseconds(rc.flush_timeout_ms);
    wc.reconnect = std::chrono::milliseconds(app.config.redis.reconnect_ms);
    app.records = std::make_unique<records::RecordWriter>(wc);
    app.records->start();
    records::RecordWriter* writer = app.records.get();
    app.metrics.setRecordSource([writer] {
      records::WriterStats st = writer->stats();
      metrics::Metrics::RecordCounts c;
      c.redis = st.redis_written;
      c.file = st.file_written;
      c.spilled = st.spilled;
      c.dropped = st.dropped;
      c.queue_depth = st.queue_depth;
      return c;
    });
  }

  app.proxy = std::make_unique<sip::Proxy>(app.config.sip, app.metrics);
  app.proxy->setRecordSink(
      [writer = app.records.get()](std::string json) { writer->push(std::move(json)); },
      instance_id);
  std::string error;
  if (!app.proxy->start(app.root, error)) {
    SB_LOG(log::Level::Error, log::Line("sip_listen_failed").kv("error", error));
    return 1;
  }
  app.listening = true;

  admin::Control control;
  control.ready = [&app] { return app.table_loaded && app.listening && !app.draining; };
  control.status_json = [&app] { return statusJson(app); };
  control.metrics_text = [&app] { return app.metrics.serialize(); };
  control.explain = [&app](const admin::ExplainQuery& q) { return explainRoute(app, q); };
  control.trunks_json = [&app] {
    auto r = callOnSipThread(app.mailbox, [&app] {
      std::string out;
      return app.proxy->trunksJson("", out) ? out : std::string();
    });
    if (!r) return admin::HttpAnswer{503, "{\"error\":\"SIP thread busy\"}"};
    if (r->empty()) return admin::HttpAnswer{503, "{\"error\":\"routing tables not loaded\"}"};
    return admin::HttpAnswer{200, *r};
  };
  control.trunk_json = [&app](const std::string& name) {
    auto r = callOnSipThread(app.mailbox, [&app, name] {
      std::string out;
      return app.proxy->trunksJson(name, out) ? out : std::string();
    });
    if (!r) return admin::HttpAnswer{503, "{\"error\":\"SIP thread busy\"}"};
    if (r->empty()) return admin::HttpAnswer{404, "{\"error\":\"no such trunk\"}"};
    return admin::HttpAnswer{200, *r};
  };
  control.set_trunk_state = [&app](const std::string& name, const std::string& state_text) {
    auto state = core::parseAdminState(state_text);
    if (!state) return admin::HttpAnswer{400, "{\"error\":\"bad state\"}"};
    auto known = callOnSipThread(app.mailbox, [&app, name] {
      return app.proxy->snapshot() && app.proxy->snapshot()->table->findTrunk(name) != nullptr;
    });
    if (!known) return admin::HttpAnswer{503, "{\"error\":\"SIP thread busy\"}"};
    if (!*known) return admin::HttpAnswer{404, "{\"error\":\"no such trunk\"}"};
    std::string error;
    if (!storeAdminState(app, name, *state, error)) {
      return admin::HttpAnswer{503, "{\"error\":" + core::jsonString(error) + "}"};
    }
    callOnSipThread(app.mailbox,
                    [&app, name, st = *state] { return app.proxy->setAdminState(name, st); });
    SB_LOG(log::Level::Info,
           log::Line("trunk_admin_state").kv("trunk", name).kv("state", state_text));
    return admin::HttpAnswer{200, "{\"trunk\":" + core::jsonString(name) + ",\"admin\":\"" +
                                      std::string(core::adminStateName(*state)) + "\"}"};
  };
  control.reload_tables = [&app] {
    if (app.watcher) app.watcher->reloadNow();
    return admin::HttpAnswer{200, "{\"reload\":\"tables\",\"result\":\"requested\"}"};
  };
  control.reload_config = [&app] {
    auto ok = callOnSipThread(app.mailbox, [&app] { return reloadConfig(app); });
    if (!ok) return admin::HttpAnswer{503, "{\"error\":\"SIP thread busy\"}"};
    return *ok ? admin::HttpAnswer{200, "{\"reload\":\"config\",\"result\":\"ok\"}"}
               : admin::HttpAnswer{400,
                                   "{\"reload\":\"config\",\"result\":\"rejected: see the log\"}"};
  };
  control.status_page = [] { return admin::statusPageHtml(); };
  admin::AdminServer admin_server(control, app.config.admin_token);
  if (app.config.admin.port != 0 &&
      !admin_server.start(app.config.admin.host, app.config.admin.port, error)) {
    SB_LOG(log::Level::Error, log::Line("admin_listen_failed").kv("error", error));
    return 1;
  }

  redis::RedisAddress raddr;
  raddr.host = app.config.redis.host;
  raddr.port = app.config.redis.port;
  raddr.password = app.config.redis.password;
  raddr.prefix = app.config.redis.prefix;
  redis::TableWatcher::Callbacks callbacks;
  callbacks.on_table = [&app](std::shared_ptr<const core::RoutingTable> table) {
    app.metrics.tableReload(true);
    app.mailbox.post(sip::makeSnapshot(std::move(table), app.metrics, nowUnix()));
  };
  callbacks.on_table_error = [&app](std::uint64_t version, const std::vector<std::string>& errors) {
    app.metrics.tableReload(false);
    SB_LOG(log::Level::Error, log::Line("table_rejected")
                                  .kv("version", version)
                                  .kv("errors", errors.size())
                                  .kv("first", errors.empty() ? std::string("-") : errors.front()));
  };
  callbacks.on_redis_state = [&app](bool up) {
    app.redis_up = up;
    app.metrics.redisUp(up);
    SB_LOG(up ? log::Level::Info : log::Level::Warn, log::Line("redis").kv("up", up ? 1 : 0));
  };
  app.watcher = std::make_unique<redis::TableWatcher>(
      raddr, callbacks, static_cast<int>(app.config.redis.poll_interval_ms),
      static_cast<int>(app.config.redis.reconnect_ms));
  app.watcher->start();

  app.redis_address = raddr;
  redis::ClusterState::Callbacks cluster_callbacks;
  cluster_callbacks.on_update = [&app](const redis::ClusterState::Update& update) {
    {
      std::lock_guard<std::mutex> lock(app.cluster_mutex);
      app.cluster_update = update;
    }
    app.mailbox.run([&app, update] { applyClusterUpdate(app, update); });
  };
  cluster_callbacks.on_redis_state = [](bool up) {
    SB_LOG(up ? log::Level::Info : log::Level::Warn,
           log::Line("cluster_redis").kv("up", up ? 1 : 0));
  };
  app.cluster = std::make_unique<redis::ClusterState>(
      raddr, instance_id, cluster_callbacks, static_cast<int>(app.config.redis.cluster_interval_ms),
      static_cast<int>(app.config.redis.lease_ms));
  app.cluster->start();

  su_timer_t* status_timer = su_timer_create(su_root_task(app.root), 200);
  su_timer_set_for_ever(status_timer, &statusTick, nullptr);

  for (const auto& l : app.config.sip.listen) {
    SB_LOG(log::Level::Info, log::Line("listening")
                                 .kv("sip", config::transportName(l.transport) + ":" + l.host +
                                                ":" + std::to_string(l.port)));
  }
  SB_LOG(log::Level::Info,
         log::Line("started")
             .kv("metrics", app.config.metrics.host + ":" + std::to_string(app.config.metrics.port))
             .kv("admin", app.config.admin.host + ":" + std::to_string(app.config.admin.port))
             .kv("redis", raddr.host + ":" + std::to_string(raddr.port)));

  su_root_run(app.root);

  app.watcher->stop();
  app.cluster->stop();  // deletes this instance's heartbeat and call counts
  admin_server.stop();
  su_timer_destroy(status_timer);
  if (app.drain_timer) su_timer_destroy(app.drain_timer);
  app.proxy->shutdown();
  // After the SIP thread's last record: flush to Redis (bounded), spill the rest.
  app.records->stop();
  {
    records::WriterStats st = app.records->stats();
    SB_LOG(log::Level::Info, log::Line("records_stopped")
                                 .kv("redis", st.redis_written)
                                 .kv("file", st.file_written)
                                 .kv("spilled", st.spilled)
                                 .kv("dropped", st.dropped));
  }
  su_root_deregister(app.root, wake_index);
  su_root_destroy(app.root);
  close(wake);
  su_deinit();
  SB_LOG(log::Level::Info, log::Line("stopped"));
  return 0;
}
