// The dialled number (Request-URI user part) -> what the caller asked for. SPEC §3.
#include "core/dialled.hpp"

namespace sb::core {

namespace {

constexpr std::string_view kHotline = "12333";
constexpr std::string_view kExam = "12370";
static_assert(kHotline.size() == kExam.size());
constexpr std::size_t kServiceLength = kHotline.size();
constexpr std::size_t kDivisionLength = 6;

// Static texts for Reason/Warning headers (SPEC §3: a clear SIP error, never a crash).
constexpr std::string_view kReasonOk = "";
constexpr std::string_view kReasonMalformed = "malformed number";
constexpr std::string_view kReasonNotService = "not a 12333/12370 number";
constexpr std::string_view kReasonIncomplete = "incomplete number";
constexpr std::string_view kReasonBadCode = "unknown division code";

bool allDigits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

DialResult fail(DialError error, std::string_view reason) {
  DialResult result;
  result.error = error;
  result.reason = reason;
  return result;
}

}  // namespace

// China's area codes: 010 and 02x are 0 + 2 digits, every other one is 0 + 3 digits
// ("0512"); 00 starts an international number. So the length follows from the second digit.
bool isAreaCodeShape(std::string_view code) {
  if (code.size() < 3 || code[0] != '0') return false;
  for (const char c : code) {
    if (c < '0' || c > '9') return false;
  }
  const char second = code[1];
  if (second == '1' || second == '2') return code.size() == 3;
  if (second >= '3' && second <= '9') return code.size() == 4;
  return false;
}

DialResult parseDialled(std::string_view user) {
  // SPEC §9: a NUL or control character is never routed. Checking every byte before
  // anything else also rejects "+12333", "12333 320500" and percent-escapes.
  if (user.empty() || !allDigits(user)) return fail(DialError::Malformed, kReasonMalformed);

  DialResult result;
  result.reason = kReasonOk;
  const std::string_view service = user.substr(0, kServiceLength);
  if (service == kHotline) {
    result.dialled.service = Service::Hotline12333;
  } else if (service == kExam) {
    result.dialled.service = Service::Exam12370;
  } else {
    return fail(DialError::NotService, kReasonNotService);
  }

  const std::string_view rest = user.substr(kServiceLength);
  if (rest.empty()) {
    // SPEC §3: the service alone routes by the caller's home region.
    result.dialled.form = DialledForm::Bare;
    return result;
  }
  if (rest.size() == kDivisionLength) {
    // SPEC §3: service + 6-digit GB/T 2260 code. Six digits starting with 0 are a bad code,
    // not an area code: no area code is that long.
    const std::optional<RegionCode> code = parseRegionCode(rest);
    if (!code) return fail(DialError::BadCode, kReasonBadCode);
    result.dialled.form = DialledForm::Division;
    result.dialled.division = *code;
    return result;
  }
  if (isAreaCodeShape(rest)) {
    // SPEC §3: service + area code; the table maps it to a division later.
    result.dialled.form = DialledForm::AreaCode;
    result.dialled.area_code = rest;
    return result;
  }
  // Too few or too many digits for either form: RFC 3261 §21.4.22 484 Address Incomplete.
  return fail(DialError::Incomplete, kReasonIncomplete);
}

int dialErrorStatus(DialError error) {
  switch (error) {
    case DialError::None:
      return 0;  // not an error: nothing to answer
    case DialError::NotService:
    case DialError::BadCode:
      return 404;  // SPEC §3: no such destination
    case DialError::Malformed:
    case DialError::Incomplete:
      return 484;  // RFC 3261 §21.4.22: Address Incomplete
  }
  return 484;
}

namespace {
bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}
}  // namespace

std::string userOfUri(std::string_view uri) {
  if (uri.size() >= 2 && uri.front() == '<' && uri.back() == '>') {
    uri = uri.substr(1, uri.size() - 2);
  }
  for (const std::string_view scheme : {"sip:", "sips:"}) {
    if (startsWithIgnoreCase(uri, scheme)) {
      uri.remove_prefix(scheme.size());
      // RFC 3261 §19.1.1: without '@' a SIP URI names only a host; the user part is empty.
      const std::size_t at = uri.find('@');
      return at == std::string_view::npos ? std::string() : std::string(uri.substr(0, at));
    }
  }
  if (startsWithIgnoreCase(uri, "tel:")) {
    uri.remove_prefix(4);
    return std::string(uri.substr(0, uri.find(';')));  // RFC 3966 parameters follow ';'
  }
  return std::string(uri);
}

}  // namespace sb::core
