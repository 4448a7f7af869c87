#include "records/jsonl_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace sb::records {

JsonLinesFile::JsonLinesFile(std::string path, std::uint64_t max_bytes, std::uint32_t keep)
    : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep) {}

JsonLinesFile::~JsonLinesFile() {
  if (file_) std::fclose(file_);
}

bool JsonLinesFile::open() {
  if (file_) return true;
  file_ = std::fopen(path_.c_str(), "a");
  if (!file_) {
    error_ = path_ + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fileno(file_), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return true;
}

bool JsonLinesFile::rotate() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (keep_ == 0) {
    // Nothing kept: start the file again.
    std::FILE* f = std::fopen(path_.c_str(), "w");
    if (f) std::fclose(f);
  } else {
    // NAME.K-1 -> NAME.K ... NAME -> NAME.1 (NAME.K, the oldest, is replaced).
    for (std::uint32_t i = keep_; i > 1; --i) {
      std::string from = path_ + "." + std::to_string(i - 1);
      std::string to = path_ + "." + std::to_string(i);
      std::rename(from.c_str(), to.c_str());  // a missing older file is fine
    }
    std::rename(path_.c_str(), (path_ + ".1").c_str());
  }
  return open();
}

bool JsonLinesFile::write(std::string_view line) {
  if (!open()) return false;
  std::uint64_t needed = line.size() + 1;
  if (max_bytes_ > 0 && size_ > 0 && size_ + needed > max_bytes_ && !rotate()) return false;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fputc('\n', file_) == EOF) {
    error_ = path_ + ": " + std::strerror(errno);
    std::fclose(file_);
    file_ = nullptr;
    return false;
  }
  size_ += needed;
  return true;
}

bool JsonLinesFile::flush() {
  if (file_ && std::fflush(file_) != 0) {
    error_ = path_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace sb::records
