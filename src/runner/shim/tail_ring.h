// TailRing: the last `capacity` bytes of a stream, kept in a file used as a ring buffer, so that
// a run's output tail can be kept whatever its length without holding it in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::shim {

class TailRing {
 public:
  // The file is created (0600, truncated) on the first Write. capacity > 0.
  TailRing(std::string path, std::int64_t capacity) : path_(std::move(path)), cap_(capacity) {}
  ~TailRing();
  TailRing(const TailRing&) = delete;
  TailRing& operator=(const TailRing&) = delete;

  // kInternal on I/O errors (the bytes still count as written).
  Status Write(std::string_view data);
  std::int64_t written() const { return written_; }
  std::int64_t kept() const { return written_ < cap_ ? written_ : cap_; }
  // Calls `fn` with the last min(kept(), last) kept bytes in order, in pieces of at most
  // `piece` bytes.
  Status ReadLast(std::int64_t last, const std::function<void(std::string_view)>& fn,
                  std::size_t piece) const;
  // Closes and deletes the file.
  void Remove();

 private:
  std::string path_;
  std::int64_t cap_;
  std::int64_t written_ = 0;
  int fd_ = -1;
};

}  // namespace outpost::shim
