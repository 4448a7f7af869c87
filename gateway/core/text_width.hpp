// Display width of text in a terminal, for tables people read (explanations, reports).
// Pure, std only.
#pragma once

#include <cstddef>
#include <string_view>

namespace sb::core {

// Columns taken by UTF-8 text, counting CJK characters (3- and 4-byte sequences) as two.
inline std::size_t displayColumns(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    const std::size_t len = u < 0x80 ? 1 : u < 0xe0 ? 2 : u < 0xf0 ? 3 : 4;
    n += len >= 3 ? 2 : 1;
    i += len;
  }
  return n;
}

}  // namespace sb::core
