// The dialled number (Request-URI user part) -> what the caller asked for. SPEC §3. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/region.hpp"

namespace sb::core {

enum class Service : std::uint8_t { Hotline12333, Exam12370 };

enum class DialledForm : std::uint8_t {
  Division,  // service + 6-digit division code: 12333320500
  AreaCode,  // service + telephone area code starting with 0: 123330512
  Bare,      // service alone: 12333
};

enum class DialError : std::uint8_t {
  None,
  NotService,  // not a 12333/12370 number at all                  -> 404
  Malformed,   // non-digits, control characters, empty             -> 484
  Incomplete,  // wrong number of digits after the service number   -> 484
  BadCode,     // six digits that cannot be a division code (00xxxx) -> 404
};

struct Dialled {
  Service service = Service::Hotline12333;
  DialledForm form = DialledForm::Bare;
  RegionCode division = kNoRegion;  // Division form only
  std::string_view area_code;       // AreaCode form only, with its leading 0 ("0512")
};

struct DialResult {
  DialError error = DialError::None;
  std::string_view reason;  // human-readable, static storage, for Reason/Warning headers
  Dialled dialled;
  bool ok() const { return error == DialError::None; }
};

// Area codes in China are 3 digits after the 0 for 010 and 02x, 4 otherwise ("0512"),
// so an area-code form is 0 + 2 or 3 digits; 12333 + 6 digits is a division code.
DialResult parseDialled(std::string_view user);

// China's area-code shape, shared with table validation: 010 and 02x are 0 + 2 digits,
// every other code 0 + 3 digits ("0512"). Says nothing about whether the code is listed.
bool isAreaCodeShape(std::string_view code);

// The user part the daemon routes on: "sip:12333320500@gw" -> "12333320500"; a bare number
// as given; "tel:12333320500;phone-context=..." -> "12333320500". Angle brackets of a pasted
// name-addr are dropped. For `route explain` and the admin dry-run.
std::string userOfUri(std::string_view uri);

// SIP status for a parse error: 404 for NotService/BadCode, 484 for Malformed/Incomplete.
int dialErrorStatus(DialError error);

}  // namespace sb::core
