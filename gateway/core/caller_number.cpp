// Caller numbers as peers send them -> a national number for the caller's home region
// (SPEC §3: P-Asserted-Identity, else From; +86, 0086, leading 0).
#include <algorithm>
#include <string>
#include <string_view>

#include "core/routing_table.hpp"

namespace sb::core {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool allDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), isDigit); }

// Mobile numbers: 11 digits, 1 then 3..9 (13x..19x).
bool isMobile(std::string_view n) {
  return n.size() == 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9' && allDigits(n);
}

// A national fixed-line number with its 0: area code 010/02x + 8 digits, or 0xxx + 7 or 8.
bool isFixedLine(std::string_view n) {
  if (n.size() < 4 || n[0] != '0' || !allDigits(n)) return false;
  if (n[1] == '1' || n[1] == '2') return n.size() == 11;
  if (n[1] >= '3' && n[1] <= '9') return n.size() == 11 || n.size() == 12;
  return false;
}

NationalNumber make(std::string_view digits) {
  NationalNumber out;
  if (digits.size() > out.digits.size()) return out;
  std::copy(digits.begin(), digits.end(), out.digits.begin());
  out.size = static_cast<std::uint8_t>(digits.size());
  return out;
}

// What follows +86 / 0086: a mobile, or a fixed line written without its trunk 0 (E.164),
// or (a common peer mistake) with it.
NationalNumber fromSubscriber(std::string_view n) {
  if (isMobile(n)) return make(n);
  if (!n.empty() && n[0] == '0') return isFixedLine(n) ? make(n) : NationalNumber{};
  if (n.size() + 1 > NationalNumber{}.digits.size()) return {};
  NationalNumber fixed;
  fixed.digits[0] = '0';
  std::copy(n.begin(), n.end(), fixed.digits.begin() + 1);
  fixed.size = static_cast<std::uint8_t>(n.size() + 1);
  return isFixedLine(fixed.view()) ? fixed : NationalNumber{};
}

}  // namespace

NationalNumber nationalNumber(std::string_view raw) {
  std::string_view n = raw;
  const bool plus = n.starts_with('+');
  if (plus) n.remove_prefix(1);
  // "anonymous", "unknown", separators, control characters: no usable home region (SPEC §3
  // then routes by the default route).
  if (n.empty() || !allDigits(n)) return {};
  if (plus) {
    // E.164: only China's country code gives a home region in China.
    return n.starts_with("86") ? fromSubscriber(n.substr(2)) : NationalNumber{};
  }
  if (n.starts_with("00")) {
    // International prefix dialled from China: 0086 is China, anything else is abroad.
    return n.starts_with("0086") ? fromSubscriber(n.substr(4)) : NationalNumber{};
  }
  if (n.size() == 13 && n.starts_with("86") && isMobile(n.substr(2))) {
    return make(n.substr(2));  // country code without '+' before a mobile
  }
  if (isMobile(n) || isFixedLine(n)) return make(n);
  return {};
}

std::string normaliseCallerNumber(std::string_view raw) {
  return std::string(nationalNumber(raw).view());
}

}  // namespace sb::core
