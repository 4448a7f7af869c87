// gateway.yaml -> one validated, immutable struct. Defaults live here and nowhere else.
// SPEC §8; style: config is strict (unknown keys are errors, with file:line).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::config {

enum class Transport : std::uint8_t { Udp, Tcp };

struct ListenAddress {
  Transport transport = Transport::Udp;
  std::string host;  // IPv4 literal, or IPv6 literal without brackets
  int port = 5060;
};

// SPEC §4: per-trunk OPTIONS probing defaults (0 interval: probing off, trunks count as up).
struct ProbeSettings {
  std::uint32_t interval_ms = 15000;
  std::uint32_t jitter_percent = 20;
  std::uint32_t timeout_ms = 3000;  // the probe's own timeout, never the 32 s transaction timer
  std::uint32_t down_after = 3;     // misses
  std::uint32_t up_after = 2;       // answers
  std::vector<int> accepted_codes;  // empty: any answer but a locally generated one is alive
};

struct SipConfig {
  std::vector<ListenAddress> listen;
  std::string server_name = "Switchboard";   // Server/User-Agent; SPEC §9: no version
  std::uint32_t max_in_progress = 20000;     // INVITEs in progress before 503 (overload)
  std::uint32_t retry_after_s = 30;          // Retry-After on 503
  std::uint32_t failover_timeout_ms = 2000;  // SPEC §4: no provisional in time -> next trunk
  std::uint32_t ring_timeout_s = 180;        // RFC 3261 §16.6 Timer C (> 3 min is advised)
  std::uint32_t max_call_duration_s = 14400;
  // SIGTERM: new calls get 503; calls in progress, established calls and in-dialog
  // transactions get this long to finish before the daemon exits 0.
  std::uint32_t drain_timeout_s = 25;  // safety net for the active-call accounting
  std::uint32_t t1_ms = 500;
  std::uint32_t t2_ms = 4000;
  // RFC 3261's T4 is 5 s. In nta it is how long a server INVITE transaction stays after its
  // 2xx (with both messages: ~45 % of the gateway's memory at 2,000 calls/s when 5 s), after
  // the ACK of a non-2xx (Timer I) and a non-INVITE client transaction after its final
  // (Timer K). The gateway absorbs what those would: a retransmitted answered INVITE
  // (Proxy::answeredInvite), an ACK addressed to it; so 500 ms (README "Memory per call").
  std::uint32_t t4_ms = 500;
  std::uint32_t max_message_bytes = 65535;
  std::uint32_t udp_buffer_bytes = 4 << 20;  // SO_RCVBUF/SO_SNDBUF of the UDP listeners
  // SPEC §9: only the source addresses of known trunks may send out-of-dialog requests
  // (others get 403 before any routing). Off only for lab set-ups.
  bool source_acl = true;
  // Per-source flood limit on out-of-dialog requests (token bucket); excess gets 503.
  std::uint32_t flood_rate = 500;  // requests per second per source address
  std::uint32_t flood_burst = 1000;
  ProbeSettings probe;
  // Issue 7 (cores): SIP worker processes. 1: the daemon itself handles SIP. N > 1: a
  // supervisor starts N workers that share every listen port (SO_REUSEPORT: the kernel
  // hashes each source address and port to one worker) and each also listens on a private
  // port, listen port + worker_port_offset + worker index, used in its Via and Record-Route
  // so responses and in-dialog requests reach the worker holding the call. 0: one per core.
  std::uint32_t workers = 1;
  std::uint32_t worker_port_offset = 100;
  // Set by the supervisor for a worker process (not read from the file): -1 = not a worker.
  int worker_index = -1;
};

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string prefix = "sb";
  std::string password;  // from SWITCHBOARD_REDIS_PASSWORD only; never printed
  std::uint32_t poll_interval_ms = 5000;
  std::uint32_t reconnect_ms = 1000;
  // Cluster-wide trunk state (admin states, calls held per instance): how often this
  // instance syncs, and how long its calls count after its last heartbeat (a crashed
  // instance's capacity comes back after this lease).
  std::uint32_t cluster_interval_ms = 250;
  std::uint32_t lease_ms = 15000;
};

// Call records (SPEC §6, docs/call-records.md): the Redis Stream <redis.prefix>:records and
// an optional JSON-lines file; when Redis is unreachable records queue in memory up to
// queue_max, then spill to the file (`file`, else `spill_file`).
struct RecordsConfig {
  bool stream = true;                     // XADD to <prefix>:records
  std::uint32_t stream_maxlen = 1000000;  // XADD MAXLEN ~
  std::uint32_t queue_max = 100000;       // records waiting for Redis
  std::uint32_t batch = 256;              // XADDs per round trip
  std::string file;                       // every record as a JSON line ("" = none)
  std::string spill_file;                 // overflow only, when `file` is empty
  std::uint32_t file_max_bytes = 100u << 20;
  std::uint32_t file_keep = 5;
  std::uint32_t flush_timeout_ms = 2000;  // at shutdown, then the rest spills
  bool operator==(const RecordsConfig&) const = default;
};

struct HttpListen {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: disabled
};

struct LogConfig {
  std::string level = "info";  // debug, info, warn, error
};

struct GatewayConfig {
  std::string source;  // file it was read from
  SipConfig sip;
  RedisConfig redis;
  RecordsConfig records;
  HttpListen metrics;
  HttpListen admin;
  // Bearer token of the admin API's changing endpoints: from admin.token_file, else the
  // environment SWITCHBOARD_ADMIN_TOKEN; never printed. Empty: those endpoints are off.
  std::string admin_token_file;
  std::string admin_token;
  LogConfig log;
};

struct ConfigResult {
  std::optional<GatewayConfig> config;
  std::vector<std::string> errors;  // "file:line: message"
};

ConfigResult loadConfigFile(const std::string& path);
ConfigResult loadConfigText(const std::string& text, const std::string& source_name);

// "udp:127.0.0.1:5060", "tcp:[::1]:5060". nullopt when malformed.
std::optional<ListenAddress> parseListen(const std::string& text);
// "127.0.0.1:9090", "[::1]:9090".
std::optional<HttpListen> parseHostPort(const std::string& text);

std::string transportName(Transport t);

}  // namespace sb::config
