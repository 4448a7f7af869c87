// Reading the call-record stream P:records (docs/call-records.md) for switchboardctl report:
// XRANGE in pages, so memory stays bounded whatever the stream holds. hiredis stays inside
// gateway/redis (style.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "redis/table_store.hpp"

namespace sb::redis {

// "P:records".
std::string recordStreamKey(const std::string& prefix);

struct StreamReadResult {
  bool ok = false;
  std::string error;           // when !ok: what failed (entries already delivered stay)
  std::uint64_t entries = 0;   // entries delivered to the callback
  std::string first_id;        // the oldest entry in the stream ("" when it is empty)
  std::int64_t first_ms = -1;  // its time (Unix ms), -1 when the stream is empty
};

// Calls `on_entry(id, rec)` for every entry with an ID time >= `start_ms`, oldest first, up
// to the end of the stream; `rec` is the entry's `rec` field, nullopt when it has none. Reads
// `page` entries per XRANGE.
StreamReadResult readRecordStream(
    const RedisAddress& addr, std::int64_t start_ms,
    const std::function<void(const std::string& id, const std::optional<std::string>& rec)>&
        on_entry,
    std::size_t page = 1000);

}  // namespace sb::redis
