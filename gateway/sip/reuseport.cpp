#include "sip/reuseport.hpp"

#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>

namespace sb::sip {
namespace {

std::array<std::atomic<int>, 16> g_shared{};  // 0: free slot

}  // namespace

bool shareListenPort(int port) {
  if (port <= 0 || port > 65535) return false;
  for (auto& slot : g_shared) {
    int expected = 0;
    if (slot.load() == port) return true;
    if (slot.compare_exchange_strong(expected, port)) return true;
  }
  return false;
}

bool listenPortShared(int port) {
  if (port <= 0) return false;
  for (const auto& slot : g_shared) {
    if (slot.load(std::memory_order_relaxed) == port) return true;
  }
  return false;
}

}  // namespace sb::sip

// The interposer. It is in the same object as shareListenPort, which the proxy calls, so it
// is linked into the executable; the linker exports it because libsofia-sip-ua refers to
// bind, and the dynamic linker then resolves Sofia's bind calls here first.
extern "C" int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  using BindFn = int (*)(int, const struct sockaddr*, socklen_t);
  static BindFn real = reinterpret_cast<BindFn>(dlsym(RTLD_NEXT, "bind"));
  if (real == nullptr) return -1;
  int port = 0;
  if (addr != nullptr && addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  } else if (addr != nullptr && addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  }
  if (sb::sip::listenPortShared(port)) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  return real(fd, addr, len);
}
