#include "common/encoding.h"

#include <array>
#include <cstdint>

namespace outpost {
namespace {

// The length a lead byte announces (1-4), or 0 for a byte that cannot start a sequence.
int SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether bytes s[1..n) continue a sequence led by s[0] correctly (RFC 3629 table 3-7),
// looking only at the bytes present (n may be shorter than the full sequence).
bool ContinuesCorrectly(const unsigned char* s, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    unsigned char lo = 0x80, hi = 0xBF;
    if (i == 1) {
      if (s[0] == 0xE0) lo = 0xA0;
      if (s[0] == 0xED) hi = 0x9F;
      if (s[0] == 0xF0) lo = 0x90;
      if (s[0] == 0xF4) hi = 0x8F;
    }
    if (s[i] < lo || s[i] > hi) return false;
  }
  return true;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0, n = s.size();
  while (i < n) {
    if (p[i] < 0x80) {  // the common case: a run of ASCII
      ++i;
      continue;
    }
    int len = SequenceLength(p[i]);
    if (len == 0 || i + static_cast<std::size_t>(len) > n) return false;
    if (!ContinuesCorrectly(p + i, static_cast<std::size_t>(len))) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

std::size_t Utf8CompletePrefix(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  // A sequence is at most 4 bytes: only the last 3 can be an unfinished one.
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const std::size_t start = n - back;
    if ((p[start] & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    int len = SequenceLength(p[start]);
    if (len > static_cast<int>(back) && ContinuesCorrectly(p + start, back)) return start;
    return n;
  }
  return n;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::string out;
  out.reserve(s.size() + 16);
  for (std::size_t i = 0; i < s.size();) {
    int len = SequenceLength(p[i]);
    if (len > 0 && i + static_cast<std::size_t>(len) <= s.size() &&
        ContinuesCorrectly(p + i, static_cast<std::size_t>(len))) {
      out.append(s.substr(i, static_cast<std::size_t>(len)));
      i += static_cast<std::size_t>(len);
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{p[i]} << 16;
    if (rest == 2) v |= std::uint32_t{p[i + 1]} << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  static const std::array<int, 256> kValue = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = i;
    return t;
  }();
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      unsigned char c = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0 || kValue[c] < 0) return std::nullopt;
      v[k] = kValue[c];
    }
    std::uint32_t w = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                      (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
    out += static_cast<char>(w >> 16);
    if (pad < 2) out += static_cast<char>((w >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(w & 0xFF);
  }
  return out;
}

}  // namespace outpost
