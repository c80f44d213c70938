// Single byte-range requests (RFC 9110 §14) against a representation of known size: what to
// answer to a Range header. Multi-range requests are answered with the whole representation
// (allowed: a server may ignore Range), as is a header that does not parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace outpost::http {

struct RangeDecision {
  enum class Kind { kFull, kPartial, kUnsatisfiable };
  Kind kind = Kind::kFull;
  std::int64_t first = 0;   // kPartial: first byte
  std::int64_t length = 0;  // kPartial: byte count (>= 1)
};

// `header` is the Range field value, when present. Accepts "bytes=a-b", "bytes=a-" and
// "bytes=-n": a first byte at or past the end, or a zero-length suffix (also of an empty
// representation), is kUnsatisfiable (416); a last byte past the end is clamped.
RangeDecision ResolveRange(std::optional<std::string_view> header, std::int64_t size);

}  // namespace outpost::http
