// A JSON-lines file rotated by size: NAME, then NAME.1 ... NAME.K (oldest last). Used only
// by the record writer's thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace sb::records {

class JsonLinesFile {
 public:
  // `max_bytes`: rotate before a line would take the file past this (0: never rotate).
  // `keep`: old files kept (0: the full file is truncated instead).
  JsonLinesFile(std::string path, std::uint64_t max_bytes, std::uint32_t keep);
  ~JsonLinesFile();
  JsonLinesFile(const JsonLinesFile&) = delete;
  JsonLinesFile& operator=(const JsonLinesFile&) = delete;

  // Appends `line` and a newline. False (with error()) when the file cannot be written.
  bool write(std::string_view line);
  // Pushes what was written to the kernel.
  bool flush();
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  bool open();
  bool rotate();

  std::string path_;
  std::uint64_t max_bytes_;
  std::uint32_t keep_;
  std::FILE* file_ = nullptr;
  std::uint64_t size_ = 0;
  std::string error_;
};

}  // namespace sb::records
