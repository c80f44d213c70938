// Byte-level text helpers shared by the event log (runner/event_log.h), its readers (core/, cli/)
// and the HTTP layer: UTF-8 validation that respects chunk boundaries, and base64 (RFC 4648,
// with padding) for chunks that are not UTF-8.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace outpost {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The length of the longest prefix of `s` that does not end inside a multi-byte sequence that
// could still be completed by more bytes: s.size() minus a trailing incomplete (but so far
// well-formed) sequence of 1-3 bytes. Used to cut a stream into chunks at character boundaries.
std::size_t Utf8CompletePrefix(std::string_view s);

// `s` with every byte that is not part of a well-formed sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view s);

std::string Base64Encode(std::string_view bytes);
// nullopt for anything that is not canonical padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace outpost
