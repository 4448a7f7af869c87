// The routing tables as written: error formatting and the syntax of single fields (trunk
// names, SIP targets, source addresses). SPEC §4, §5, §9.
#include "core/table_spec.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace sb::core {

std::string formatError(const TableError& error) {
  std::string out;
  out.reserve(error.loc.file.size() + error.message.size() + 16);
  if (!error.loc.file.empty()) {
    out += error.loc.file;
    // The line is only meaningful when the loader knew it; "file:0:" would mislead editors
    // and CI annotations that jump to line 0.
    if (error.loc.line > 0) {
      out += ':';
      out += std::to_string(error.loc.line);
    }
    out += ": ";
  } else if (error.loc.line > 0) {
    out += "line ";
    out += std::to_string(error.loc.line);
    out += ": ";
  }
  out += error.message;
  return out;
}

namespace {

// ---- Small text helpers -------------------------------------------------------------------

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isAlpha(char c) { return isLower(c) || (c >= 'A' && c <= 'Z'); }
bool isAlnum(char c) { return isDigit(c) || isAlpha(c); }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool allDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), isDigit); }

char toLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (toLower(a[i]) != toLower(b[i])) return false;
  }
  return true;
}

// Parses 1..max_digits decimal digits with no sign; nullopt on anything else or overflow.
std::optional<std::uint32_t> parseDecimal(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits || !allDigits(text)) return std::nullopt;
  std::uint32_t value = 0;
  for (const char c : text) value = value * 10 + static_cast<std::uint32_t>(c - '0');
  return value;
}

// ---- IP addresses (trunk sources, SPEC §9: only known trunks' addresses may send) -----------

// Strict dotted quad as a socket reports it: no leading zeros ("010.1.1.1" would be octal to
// inet_aton and can never equal what the socket reports).
bool isIpv4(std::string_view text) {
  int parts = 0;
  while (true) {
    const std::size_t dot = text.find('.');
    const std::string_view part = text.substr(0, dot);
    const std::optional<std::uint32_t> value = parseDecimal(part, 3);
    if (!value || *value > 255 || (part.size() > 1 && part[0] == '0')) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return parts == 4;
}

using Ipv6Bytes = std::array<std::uint8_t, 16>;

// RFC 4291 §2.2 text forms: eight hex groups, one "::" for a run of zero groups, and an
// optional trailing dotted quad.
std::optional<Ipv6Bytes> parseIpv6(std::string_view text) {
  std::array<std::uint16_t, 8> groups{};
  std::size_t count = 0;
  std::optional<std::size_t> gap;  // index where "::" stands
  if (text.starts_with("::")) {
    gap = 0;
    text.remove_prefix(2);
  } else if (text.starts_with(":")) {
    return std::nullopt;
  }
  while (!text.empty()) {
    const std::size_t colon = text.find(':');
    const std::string_view part = text.substr(0, colon);
    if (colon == std::string_view::npos && part.find('.') != std::string_view::npos) {
      // Embedded IPv4 in the last 32 bits ("::ffff:10.0.0.1").
      if (count > 6 || !isIpv4(part)) return std::nullopt;
      std::uint32_t octets[4] = {0, 0, 0, 0};
      std::string_view rest = part;
      for (std::uint32_t& octet : octets) {
        const std::size_t dot = rest.find('.');
        octet = *parseDecimal(rest.substr(0, dot), 3);
        rest.remove_prefix(dot == std::string_view::npos ? rest.size() : dot + 1);
      }
      groups[count++] = static_cast<std::uint16_t>(octets[0] << 8 | octets[1]);
      groups[count++] = static_cast<std::uint16_t>(octets[2] << 8 | octets[3]);
      text = {};
      break;
    }
    if (part.empty() || part.size() > 4 || count == 8) return std::nullopt;
    std::uint16_t value = 0;
    for (const char c : part) {
      if (!isHex(c)) return std::nullopt;
      const int digit = isDigit(c) ? c - '0' : toLower(c) - 'a' + 10;
      value = static_cast<std::uint16_t>(value << 4 | digit);
    }
    groups[count++] = value;
    if (colon == std::string_view::npos) {
      text = {};
    } else if (text.substr(colon).starts_with("::")) {
      if (gap) return std::nullopt;  // only one "::"
      gap = count;
      text.remove_prefix(colon + 2);
    } else {
      text.remove_prefix(colon + 1);
      if (text.empty()) return std::nullopt;  // trailing single ':'
    }
  }
  if (gap ? count > 7 : count != 8) return std::nullopt;
  std::array<std::uint16_t, 8> full{};
  const std::size_t head = gap.value_or(count);
  std::copy_n(groups.begin(), head, full.begin());
  std::copy(groups.begin() + static_cast<std::ptrdiff_t>(head),
            groups.begin() + static_cast<std::ptrdiff_t>(count),
            full.end() - static_cast<std::ptrdiff_t>(count - head));
  Ipv6Bytes bytes{};
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[2 * i] = static_cast<std::uint8_t>(full[i] >> 8);
    bytes[2 * i + 1] = static_cast<std::uint8_t>(full[i] & 0xff);
  }
  return bytes;
}

bool isV4Mapped(const Ipv6Bytes& b) {
  return std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
         b[10] == 0xff && b[11] == 0xff;
}

// RFC 5952 canonical text (what inet_ntop prints), so "2001:DB8:0::1" in a table matches
// "2001:db8::1" from the socket. A v4-mapped address becomes the plain dotted quad: a
// dual-stack socket reports an IPv4 peer that way.
std::string canonicalIpv6(const Ipv6Bytes& b) {
  if (isV4Mapped(b)) {
    return std::to_string(b[12]) + '.' + std::to_string(b[13]) + '.' + std::to_string(b[14]) + '.' +
           std::to_string(b[15]);
  }
  std::array<std::uint16_t, 8> g{};
  for (std::size_t i = 0; i < 8; ++i)
    g[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  // RFC 5952 §4.2: compress the longest run (first on a tie) of two or more zero groups.
  std::size_t best_start = 8, best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;  // RFC 5952 §4.1: no leading zeros
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int nibble = (g[i] >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        out += kHexDigits[nibble];
        started = true;
      }
    }
  }
  return out;
}

// RFC 3261 §25.1 hostname: dot-separated labels of alphanumerics and inner hyphens, the last
// one starting with a letter (so "10.0.0.300" is neither a name nor an address).
bool isHostname(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return false;
  std::string_view last;
  while (true) {
    const std::size_t dot = host.find('.');
    const std::string_view label = host.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(), [](char c) { return isAlnum(c) || c == '-'; })) {
      return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return isAlpha(last.front());
}

// RFC 3261 §25.1 user: unreserved / escaped / user-unreserved.
bool isUserPart(std::string_view user) {
  if (user.empty()) return false;
  for (std::size_t i = 0; i < user.size(); ++i) {
    const char c = user[i];
    if (isAlnum(c) || std::string_view("-_.!~*'()&=+$,;?/").find(c) != std::string_view::npos) {
      continue;
    }
    if (c == '%' && i + 2 < user.size() && isHex(user[i + 1]) && isHex(user[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return isAlnum(c) || std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
  });
}

}  // namespace

// The form a source address is stored and looked up in; nullopt when it is no address.
std::optional<std::string> canonicalAddress(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (isIpv4(text)) return std::string(text);
  if (text.find(':') == std::string_view::npos) return std::nullopt;
  const std::optional<Ipv6Bytes> bytes = parseIpv6(text);
  if (!bytes) return std::nullopt;
  return canonicalIpv6(*bytes);
}

// ---- SIP target URIs (RFC 3261 §19.1) -------------------------------------------------------

// SPEC §4: a target is host:port;transport. Accepted: sip:host, sip:host:port,
// sip:user@host:port;transport=udp|tcp|tls, IPv6 in brackets, sips: likewise.
bool isSipTarget(std::string_view uri) {
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view scheme = uri.substr(0, colon);
  // RFC 3261 §19.1.4: schemes compare case-insensitively.
  if (!equalsIgnoreCase(scheme, "sip") && !equalsIgnoreCase(scheme, "sips")) return false;
  std::string_view rest = uri.substr(colon + 1);
  // Headers (?...) make no sense in a static target and are refused rather than ignored.
  if (rest.find('?') != std::string_view::npos) return false;

  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    // Passwords in routing tables would end up in Redis and logs; refuse "user:pw@".
    if (!isUserPart(rest.substr(0, at)) || rest.substr(0, at).find(':') != std::string_view::npos) {
      return false;
    }
    rest.remove_prefix(at + 1);
  }

  const std::size_t semi = rest.find(';');
  std::string_view hostport = rest.substr(0, semi);
  std::string_view params = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi);

  std::string_view port;
  if (hostport.starts_with('[')) {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return false;
    if (!parseIpv6(hostport.substr(1, close - 1))) return false;
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
  } else {
    colon = hostport.find(':');
    const std::string_view host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = hostport.substr(colon + 1);
      if (port.empty()) return false;
    }
    const bool looks_numeric =
        std::all_of(host.begin(), host.end(), [](char c) { return isDigit(c) || c == '.'; });
    if (looks_numeric ? !isIpv4(host) : !isHostname(host)) return false;
  }
  if (!port.empty()) {
    const std::optional<std::uint32_t> value = parseDecimal(port, 5);
    if (!value || *value == 0 || *value > 65535) return false;
  }

  while (!params.empty()) {
    params.remove_prefix(1);  // the ';'
    const std::size_t next = params.find(';');
    const std::string_view param = params.substr(0, next);
    params = next == std::string_view::npos ? std::string_view{} : params.substr(next);
    const std::size_t eq = param.find('=');
    const std::string_view name = param.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (!isToken(name)) return false;
    if (eq != std::string_view::npos && !isToken(value)) return false;
    // SPEC §4: per-trunk transport; the proxy speaks UDP, TCP and TLS only.
    if (equalsIgnoreCase(name, "transport") && !equalsIgnoreCase(value, "udp") &&
        !equalsIgnoreCase(value, "tcp") && !equalsIgnoreCase(value, "tls")) {
      return false;
    }
  }
  return true;
}

// SPEC §4: trunk names appear in metrics labels, logs and Redis keys: [a-z0-9][a-z0-9-]*.
bool isTrunkName(std::string_view name) {
  if (name.empty() || !(isLower(name.front()) || isDigit(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return isLower(c) || isDigit(c) || c == '-'; });
}

}  // namespace sb::core
