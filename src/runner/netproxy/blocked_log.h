// BlockedAttempt: one connection the egress proxy refused, and the JSON-lines file the shim
// keeps of them so the control plane can show `network.blocked[]` on the run.
//
// File format: one object per line, {"host":"evil.example","port":443,
// "time":"2026-11-28T08:22:40.123Z","reason":"not in allowlist"}. Appends are single write(2)s
// on an O_APPEND descriptor, so concurrent writers (even in other processes) never interleave.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::netproxy {

struct BlockedAttempt {
  std::string host;
  int port = 0;
  WallTime at;
  std::string reason;  // "not in allowlist", "resolves to a link-local address", ...

  bool operator==(const BlockedAttempt&) const = default;
};

// One JSON line, without the trailing newline. `at` is kept at millisecond precision.
std::string BlockedAttemptToJson(const BlockedAttempt& a);

// Appends BlockedAttempts to a file. Thread-safe.
class BlockedLog {
 public:
  // Opens (creating with mode 0600) `path` for appending. kUnavailable when it cannot.
  static Result<std::unique_ptr<BlockedLog>> Open(const std::string& path);
  ~BlockedLog();
  BlockedLog(const BlockedLog&) = delete;
  BlockedLog& operator=(const BlockedLog&) = delete;

  // Appends one line. kUnavailable on a write error (disk full, ...).
  Status Append(const BlockedAttempt& a);

 private:
  explicit BlockedLog(int fd) : fd_(fd) {}
  std::mutex mu_;
  int fd_;  // guarded by mu_ for writes; the descriptor itself is immutable
};

// Every attempt in the file, in order. A missing file means none were blocked (empty list).
// Lines that do not parse — typically a last line torn by a crash mid-write — are skipped:
// this is a diagnostic record, and one bad line must not hide the others. kUnavailable when
// the file exists but cannot be read.
Result<std::vector<BlockedAttempt>> ReadBlocked(const std::string& path);

}  // namespace outpost::netproxy
