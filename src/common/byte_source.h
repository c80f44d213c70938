// ByteSource: a readable sequence of bytes of known size — what a run left behind (its output,
// its diff), handed from the runner to whoever stores it, without saying where the bytes are
// (a local file, an object in a bucket, a container's volume).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace outpost {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The size when the source was opened; reads never go past it (bytes appended later are not
  // part of the source).
  virtual std::int64_t size() const = 0;
  // Up to `max` bytes from `offset` (fewer only at size()); "" at or past size(). May be called
  // in any order, any number of times (a reader may hash first, then send). kInternal for I/O
  // errors; kFailedPrecondition when the bytes changed under the source (a file cut shorter).
  virtual Result<std::string> ReadAt(std::int64_t offset, std::size_t max) = 0;
};

// A regular file, opened now (it keeps reading the same file if the name is replaced).
// kNotFound when there is no such file, kInvalidArgument when it is not a regular file,
// kInternal for other errors.
Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

// Bytes in memory.
std::unique_ptr<ByteSource> StringSource(std::string content);

// All of `source` (for sources known to be small).
Result<std::string> ReadAll(ByteSource& source);

}  // namespace outpost
