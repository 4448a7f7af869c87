// Writing JSON text (RFC 8259) for explanations and reports served to people and tools.
// Pure, std only.
#pragma once

#include <string>
#include <string_view>

namespace sb::core {

// Appends `value` as a JSON string literal. Control characters are escaped; bytes that are
// not valid UTF-8 (a caller number or header from the wire may hold anything) become
// U+FFFD, so the output is always valid JSON.
void appendJsonString(std::string& out, std::string_view value);

// The same as a new string.
std::string jsonString(std::string_view value);

}  // namespace sb::core
