#include "common/ids.h"

#include <array>
#include <cstdint>
#include <random>

namespace outpost {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

std::mt19937_64& Engine() {
  thread_local std::mt19937_64 engine([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return engine;
}

}  // namespace

std::string NewUlid(WallTime now) {
  auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  std::uint64_t r1 = Engine()(), r2 = Engine()();
  for (int i = 10; i < 26; ++i) {
    std::uint64_t& src = i < 18 ? r1 : r2;
    out[i] = kAlphabet[src & 31];
    src >>= 5;
  }
  return out;
}

bool IsUlid(std::string_view s) {
  if (s.size() != 26) return false;
  if (DecodeChar(s[0]) > 7) return false;  // 48-bit time fits in 10 chars only up to '7'
  for (char c : s) {
    if (DecodeChar(c) < 0) return false;
  }
  return true;
}

std::string CanonicalUlid(std::string_view s) {
  std::string out(s);
  if (!IsUlid(s)) return out;
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

WallTime UlidTime(std::string_view ulid) {
  std::uint64_t ms = 0;
  for (int i = 0; i < 10; ++i) ms = (ms << 5) | static_cast<std::uint64_t>(DecodeChar(ulid[i]));
  return WallTime(std::chrono::milliseconds(ms));
}

}  // namespace outpost
