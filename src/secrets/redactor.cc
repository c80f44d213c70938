#include "secrets/redactor.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// Why not std::regex: agent output can be megabytes, and a hand-written scan over the few
// literal prefixes is linear and cheap. Why not Vectorscan: every credential shape starts
// with one of seven two-byte anchors (below), so a 16-bytes-at-a-time SSE2 compare finds every
// candidate exactly (no false negatives, few false positives) with no new dependency, and
// the exact matcher confirms each one from where it starts (Vectorscan reports match ends). Why
// hold back only a suffix and not whole lines: a partial line (a progress prompt) then still
// reaches stdout.log while the run is going.
namespace outpost {
namespace {

constexpr std::size_t kMinSecret = 4;
constexpr std::size_t kMaxHold = 64 * 1024;
constexpr std::size_t kPemTail = 256;  // kept inside a PEM block to find a split END line
constexpr std::string_view kPemBegin = "-----BEGIN";
constexpr std::string_view kPemEnd = "-----END ";
constexpr std::string_view kDashes = "-----";

enum class Body { kAlnum, kAlnumUnderscore, kAlnumDash, kUpperDigit };

struct TokenRule {
  std::string_view prefix;
  Body body;
  std::size_t min;
  std::size_t max;  // 0: unbounded
};

// Longer prefixes first where one prefix extends another (sk-ant- before sk-).
constexpr std::array<TokenRule, 14> kRules = {{
    {"github_pat_", Body::kAlnumUnderscore, 20, 0},
    {"ghp_", Body::kAlnum, 20, 0},
    {"gho_", Body::kAlnum, 20, 0},
    {"ghu_", Body::kAlnum, 20, 0},
    {"ghs_", Body::kAlnum, 20, 0},
    {"ghr_", Body::kAlnum, 20, 0},
    {"sk-ant-", Body::kAlnumDash, 8, 0},
    {"sk-proj-", Body::kAlnumDash, 20, 0},
    {"sk-", Body::kAlnum, 32, 0},
    {"AKIA", Body::kUpperDigit, 16, 16},
    {"ASIA", Body::kUpperDigit, 16, 16},
    {"xoxb-", Body::kAlnumDash, 10, 0},
    {"xoxp-", Body::kAlnumDash, 10, 0},
    {"xoxa-", Body::kAlnumDash, 10, 0},
}};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool InBody(Body b, char c) {
  switch (b) {
    case Body::kAlnum:
      return IsAlnum(c);
    case Body::kAlnumUnderscore:
      return IsAlnum(c) || c == '_';
    case Body::kAlnumDash:
      return IsAlnum(c) || c == '_' || c == '-';
    case Body::kUpperDigit:
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  return false;
}
// Every character any pattern can contain: a run of these may still grow into a match.
bool IsToken(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }
bool IsJwtChar(char c) { return IsAlnum(c) || c == '_' || c == '-'; }

std::size_t Span(std::string_view s, std::size_t from, bool (*ok)(char)) {
  std::size_t i = from;
  while (i < s.size() && ok(s[i])) ++i;
  return i - from;
}

// eyJ<b64url>.eyJ<b64url>.<b64url>; returns the match length or 0.
std::size_t MatchJwt(std::string_view s) {
  std::size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    if (part < 2 && !s.substr(i).starts_with("eyJ")) return 0;
    std::size_t n = Span(s, i, IsJwtChar);
    if (n == 0 || (part < 2 && n <= 3)) return 0;
    i += n;
    if (part < 2) {
      if (i >= s.size() || s[i] != '.') return 0;
      ++i;
    }
  }
  return i;
}

// Length of the credential starting at s[0] (0: none) and its replacement.
std::size_t MatchToken(std::string_view s, std::string_view& replacement) {
  if (s.empty() || std::string_view("gsAxe").find(s[0]) == std::string_view::npos) return 0;
  if (s.starts_with("eyJ")) {
    replacement = kRedactedJwt;
    return MatchJwt(s);
  }
  replacement = kRedacted;
  for (const auto& r : kRules) {
    if (!s.starts_with(r.prefix)) continue;
    std::size_t n = 0, i = r.prefix.size();
    while (i + n < s.size() && InBody(r.body, s[i + n]) && (r.max == 0 || n < r.max)) ++n;
    if (n >= r.min) return i + n;
  }
  return 0;
}

// A credential can only start at a position whose two bytes are one of these anchors (each
// rule's prefix and "eyJ" begin with one): the prefilter jumps from anchor to anchor.
constexpr bool IsAnchor(char a, char b) {
  switch (a) {
    case 'g':
      return b == 'h' || b == 'i';
    case 's':
      return b == 'k';
    case 'A':
      return b == 'K' || b == 'S';
    case 'x':
      return b == 'o';
    case 'e':
      return b == 'y';
    default:
      return false;
  }
}
constexpr bool EveryPrefixAnchored() {
  for (const auto& r : kRules) {
    if (r.prefix.size() < 3 || !IsAnchor(r.prefix[0], r.prefix[1])) return false;
  }
  return IsAnchor('e', 'y');  // "eyJ"
}
static_assert(EveryPrefixAnchored(), "a rule's prefix does not begin with an IsAnchor pair");

// The first i >= from with IsAnchor(v[i], v[i + 1]), or v.size(). (A single last byte cannot
// start a match: every prefix has 3 bytes or more.)
std::size_t NextAnchor(std::string_view v, std::size_t i) {
  const std::size_t n = v.size();
#if defined(__SSE2__)
  const char* d = v.data();
  auto eq = [](__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); };
  for (; i + 17 <= n; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i + 1));
    __m128i m = _mm_and_si128(eq(a, 'g'), _mm_or_si128(eq(b, 'h'), eq(b, 'i')));
    m = _mm_or_si128(m, _mm_and_si128(eq(a, 's'), eq(b, 'k')));
    m = _mm_or_si128(m, _mm_and_si128(eq(a, 'A'), _mm_or_si128(eq(b, 'K'), eq(b, 'S'))));
    m = _mm_or_si128(m, _mm_and_si128(eq(a, 'x'), eq(b, 'o')));
    m = _mm_or_si128(m, _mm_and_si128(eq(a, 'e'), eq(b, 'y')));
    if (const int bits = _mm_movemask_epi8(m); bits != 0) {
      return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
    }
  }
#endif
  for (; i + 1 < n; ++i) {
    if (IsAnchor(v[i], v[i + 1])) return i;
  }
  return n;
}

// The credential pass: copies the bytes between anchors in bulk, and tries the exact matcher
// only at anchors. Same result as the byte-by-byte loop of RedactTokensReference.
void RedactTokens(std::string_view v, std::string& out) {
  for (std::size_t i = 0; i < v.size();) {
    const std::size_t at = NextAnchor(v, i);
    out.append(v.substr(i, at - i));
    if (at == v.size()) return;
    std::string_view replacement;
    if (std::size_t n = MatchToken(v.substr(at), replacement); n > 0) {
      out += replacement;
      i = at + n;
    } else {
      out += v[at];
      i = at + 1;
    }
  }
}

// The original credential pass (MatchToken at every byte), the reference of the differential
// test and fuzz/redactor_fuzzer.cc.
void RedactTokensReference(std::string_view v, std::string& out) {
  for (std::size_t i = 0; i < v.size();) {
    std::string_view replacement;
    std::size_t n = MatchToken(v.substr(i), replacement);
    if (n > 0) {
      out += replacement;
      i += n;
    } else {
      out += v[i++];
    }
  }
}

// Horspool's search for a configured secret (skip: its bad-character table, SkipTable).
std::size_t FindSecret(std::string_view hay, std::size_t from, std::string_view needle,
                       const std::array<std::uint32_t, 256>& skip) {
  const std::size_t m = needle.size();
  const char last = needle[m - 1];
  for (std::size_t i = from; i + m <= hay.size();) {
    const char c = hay[i + m - 1];
    if (c == last && std::memcmp(hay.data() + i, needle.data(), m - 1) == 0) return i;
    i += skip[static_cast<unsigned char>(c)];
  }
  return std::string_view::npos;
}

std::array<std::uint32_t, 256> SkipTable(std::string_view needle) {
  std::array<std::uint32_t, 256> skip;
  skip.fill(static_cast<std::uint32_t>(needle.size()));
  for (std::size_t i = 0; i + 1 < needle.size(); ++i) {
    skip[static_cast<unsigned char>(needle[i])] = static_cast<std::uint32_t>(needle.size() - 1 - i);
  }
  return skip;
}

// Whether a match could start at s[0] given more input: s begins with a pattern's prefix, or
// is itself the beginning of one.
bool MayStartMatch(std::string_view s) {
  auto compatible = [s](std::string_view lit) { return s.starts_with(lit) || lit.starts_with(s); };
  if (compatible("eyJ") || compatible(kPemBegin)) return true;
  return std::any_of(kRules.begin(), kRules.end(),
                     [&](const TokenRule& r) { return compatible(r.prefix); });
}

// The "-----BEGIN … PRIVATE KEY-----" header wholly inside text[0, limit): {begin, end} or
// {npos, npos}.
std::pair<std::size_t, std::size_t> FindPemBegin(std::string_view text, std::size_t limit) {
  for (std::size_t p = text.find(kPemBegin); p != std::string_view::npos && p < limit;
       p = text.find(kPemBegin, p + 1)) {
    std::size_t from = p + kPemBegin.size();
    std::size_t close = text.find(kDashes, from);
    std::size_t eol = text.find('\n', from);
    if (close == std::string_view::npos || close > eol || close + kDashes.size() > limit) continue;
    if (text.substr(from, close - from).find("PRIVATE KEY") != std::string_view::npos) {
      return {p, close + kDashes.size()};
    }
  }
  return {std::string_view::npos, std::string_view::npos};
}

// The end of a "-----END …-----" line, or npos.
std::size_t FindPemEnd(std::string_view text) {
  for (std::size_t p = text.find(kPemEnd); p != std::string_view::npos;
       p = text.find(kPemEnd, p + 1)) {
    std::size_t from = p + kPemEnd.size();
    std::size_t close = text.find(kDashes, from);
    if (close != std::string_view::npos && close < text.find('\n', from)) {
      return close + kDashes.size();
    }
  }
  return std::string_view::npos;
}

}  // namespace

Redactor::Redactor(std::vector<std::string> secrets) {
  for (auto& s : secrets) {
    if (s.size() >= kMinSecret) secrets_.push_back(std::move(s));
  }
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  secrets_.erase(std::unique(secrets_.begin(), secrets_.end()), secrets_.end());
  for (const auto& s : secrets_) skips_.push_back(SkipTable(s));
}

std::string Redactor::Feed(std::string_view chunk) {
  pending_.append(chunk);
  return Process(/*final=*/false);
}

std::string Redactor::Flush() { return Process(/*final=*/true); }

std::string Redactor::RedactAll(std::string_view text, std::vector<std::string> secrets) {
  Redactor r(std::move(secrets));
  std::string out = r.Feed(text);
  return out + r.Flush();
}

std::string Redactor::Process(bool final) {
  std::string out;
  for (;;) {
    if (in_pem_) {
      std::size_t end = FindPemEnd(pending_);
      if (end == std::string::npos) {
        if (final) {
          pending_.clear();
        } else if (pending_.size() > kPemTail) {
          pending_.erase(0, pending_.size() - kPemTail);
        }
        return out;
      }
      pending_.erase(0, end);
      in_pem_ = false;
      continue;
    }
    std::size_t cut = final ? pending_.size() : SafeCut();
    auto [begin, header_end] = FindPemBegin(pending_, cut);
    if (begin != std::string::npos) {
      out += Redact(std::string_view(pending_).substr(0, begin));
      out += kRedactedPem;
      pending_.erase(0, header_end);
      in_pem_ = true;
      continue;
    }
    if (pending_.size() - cut > kMaxHold) cut = ForcedCut();
    out += Redact(std::string_view(pending_).substr(0, cut));
    pending_.erase(0, cut);
    return out;
  }
}

// Past kMaxHold the held token is emitted anyway, except the last (longest secret - 1) bytes:
// they may begin a secret whose rest has not arrived. No whole secret straddles the cut.
std::size_t Redactor::ForcedCut() const {
  const std::string_view p = pending_;
  const std::size_t keep = secrets_.empty() ? 0 : secrets_.front().size() - 1;
  std::size_t cut = p.size() - std::min(keep, p.size());
  return BeforeWholeSecrets(p, cut);
}

// Moves cut back to the start of any secret that begins before it and is whole in p.
std::size_t Redactor::BeforeWholeSecrets(std::string_view p, std::size_t cut) const {
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& s : secrets_) {
      std::size_t from = cut >= s.size() ? cut - s.size() + 1 : 0;
      std::size_t at = p.find(s, from);
      if (at != std::string_view::npos && at < cut) {
        cut = at;
        moved = true;
      }
    }
  }
  return cut;
}

// The earliest position from which pending_ must wait for more input.
std::size_t Redactor::SafeCut() const {
  const std::string_view p = pending_;
  const std::size_t n = p.size();
  std::size_t cut = n;
  for (const auto& s : secrets_) {  // a suffix that begins a secret
    for (std::size_t k = std::min(s.size() - 1, n); k >= 1; --k) {
      if (p.substr(n - k) == std::string_view(s).substr(0, k)) {
        cut = std::min(cut, n - k);
        break;
      }
    }
  }
  std::size_t run = n;  // a trailing token run that may become a credential
  while (run > 0 && IsToken(p[run - 1])) --run;
  for (std::size_t i = run; i < n && i < cut; ++i) {
    if (MayStartMatch(p.substr(i))) {
      cut = i;
      break;
    }
  }
  std::size_t line = p.rfind('\n');  // an unfinished PEM header line
  cut = std::min(cut, p.find(kPemBegin, line == std::string_view::npos ? 0 : line + 1));
  // Never cut through a whole secret (a token rule may have chosen a point inside one).
  return BeforeWholeSecrets(p, cut);
}

Redactor Redactor::Reference(std::vector<std::string> secrets) {
  Redactor r(std::move(secrets));
  r.reference_ = true;
  return r;
}

std::string Redactor::Redact(std::string_view text) const {
  std::string s, next;
  if (reference_) {  // the original secret pass: find and replace in place
    s.assign(text);
    for (const auto& secret : secrets_) {
      for (std::size_t p = s.find(secret); p != std::string::npos;
           p = s.find(secret, p + kRedacted.size())) {
        s.replace(p, secret.size(), kRedacted);
      }
    }
    text = s;
  } else {
    // Longest first, each on the previous one's result, left to right (as the reference);
    // the text is copied only when a secret occurs in it.
    for (std::size_t k = 0; k < secrets_.size(); ++k) {
      const std::string_view secret = secrets_[k];
      std::size_t p = FindSecret(text, 0, secret, skips_[k]);
      if (p == std::string_view::npos) continue;
      next.clear();
      next.reserve(text.size());
      std::size_t from = 0;
      for (; p != std::string_view::npos; p = FindSecret(text, from, secret, skips_[k])) {
        next.append(text.substr(from, p - from));
        next.append(kRedacted);
        from = p + secret.size();
      }
      next.append(text.substr(from));
      s.swap(next);
      text = s;
    }
  }
  std::string out;
  out.reserve(text.size());
  if (reference_) {
    RedactTokensReference(text, out);
  } else {
    RedactTokens(text, out);
  }
  return out;
}

}  // namespace outpost
