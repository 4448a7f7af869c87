// Sofia-SIP includes and small helpers shared by the adapter's files. Private to sip/.
#pragma once

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::sip {

inline std::string_view sv(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// "203" from a Via/URL port, defaulting to 5060 (RFC 3261 §19.1.2).
inline std::string_view portOr5060(const char* port) {
  return (port && *port) ? std::string_view(port) : std::string_view("5060");
}

// SPEC §9: a NUL or control character in a routing field is never routed.
inline bool hasControlChars(const char* s) {
  if (!s) return false;
  for (; *s; ++s) {
    auto c = static_cast<unsigned char>(*s);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Monotonic milliseconds (admission: rate buckets, call ages).
inline std::int64_t monoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The source IP address of a received message, as text ("127.0.0.11", "::1").
inline std::string sourceAddress(msg_t* msg) {
  su_addrinfo_t* ai = msg_addrinfo(msg);
  if (!ai || !ai->ai_addr) return {};
  char buf[64] = {0};
  auto* su = reinterpret_cast<su_sockaddr_t*>(ai->ai_addr);
  if (su->su_family == AF_INET6) {
    su_inet_ntop(AF_INET6, &su->su_sin6.sin6_addr, buf, sizeof buf);
  } else {
    su_inet_ntop(AF_INET, &su->su_sin.sin_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace sb::sip
