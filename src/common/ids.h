// Identifiers: ULIDs (26 chars of Crockford base32, 48-bit millisecond time + 80 random bits),
// and the strong RunId type used across components.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"

namespace outpost {

// A new ULID for the given time. Thread-safe; random part from a per-thread CSPRNG-seeded engine.
std::string NewUlid(WallTime now);

// True when `s` is a syntactically valid ULID (26 chars, Crockford alphabet, no overflow).
bool IsUlid(std::string_view s);

// ULIDs are case-insensitive; Outpost stores, signs and serves them in upper case. Every id that
// comes from outside (a path, a query, a tool argument, a command line) goes through this before
// it reaches a store key, a token or a URL: `s` upper-cased when it is a ULID, else `s` unchanged
// (so that the caller's validation still reports what was given).
std::string CanonicalUlid(std::string_view s);

// The millisecond timestamp encoded in a valid ULID.
WallTime UlidTime(std::string_view ulid);

class RunId {
 public:
  RunId() = default;
  explicit RunId(std::string v) : v_(std::move(v)) {}
  const std::string& str() const { return v_; }
  bool empty() const { return v_.empty(); }
  auto operator<=>(const RunId&) const = default;

 private:
  std::string v_;
};

}  // namespace outpost
