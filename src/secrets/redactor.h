// Redactor: removes secret values and well-known credential shapes from a byte stream that
// arrives in arbitrary chunks (an agent's stdout/stderr), so that nothing written to a log or
// artifact contains them.
//
// Replaced: every configured secret value of 4 bytes or more → "[REDACTED]"; GitHub tokens
// (ghp_/gho_/ghu_/ghs_/ghr_…, github_pat_…), Anthropic (sk-ant-…) and OpenAI (sk-…32+,
// sk-proj-…) keys, AWS access key ids (AKIA/ASIA + 16), Slack tokens (xoxb-/xoxp-/xoxa-…)
// → "[REDACTED]"; JWTs (eyJ….eyJ….…) → "[REDACTED_JWT]"; PEM private-key blocks (BEGIN … END,
// across any number of lines) → "[REDACTED_PEM]" (the original's scrub-secrets patterns).
//
// The result does not depend on how the input was chunked: Feed holds back the tail that
// could still become (part of) a match and emits it once it is decided. Held back at most:
// a trailing run of token characters that could start a pattern, a suffix that is a prefix of
// a secret, an incomplete "-----BEGIN" line; past 64 KiB of held text it is redacted and
// emitted anyway (a pathological single token) — all but its last (longest secret − 1) bytes,
// so a configured secret is never split by that forced flush (a credential *pattern* longer
// than 64 KiB may be). Not thread-safe: one Redactor per stream.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

inline constexpr std::string_view kRedacted = "[REDACTED]";
inline constexpr std::string_view kRedactedPem = "[REDACTED_PEM]";
inline constexpr std::string_view kRedactedJwt = "[REDACTED_JWT]";

class Redactor {
 public:
  // Values shorter than 4 bytes are ignored (they would redact ordinary text).
  explicit Redactor(std::vector<std::string> secrets = {});

  // Takes the next chunk; returns what can be emitted now (possibly empty).
  std::string Feed(std::string_view chunk);
  // End of stream: returns everything still held back, redacted.
  std::string Flush();

  // One-shot redaction of a complete text.
  static std::string RedactAll(std::string_view text, std::vector<std::string> secrets = {});

  // The same redactor with the original scans (every credential pattern tried at every byte,
  // each secret value found and replaced in place) instead of the anchor prefilter and the
  // one-pass secret search: the reference that redactor_diff_test.cc and
  // fuzz/redactor_fuzzer.cc compare against. Same output, several times slower; not for use.
  static Redactor Reference(std::vector<std::string> secrets = {});

 private:
  std::string Process(bool final);
  std::size_t SafeCut() const;
  std::size_t ForcedCut() const;
  std::size_t BeforeWholeSecrets(std::string_view p, std::size_t cut) const;
  std::string Redact(std::string_view text) const;

  std::vector<std::string> secrets_;                   // longest first
  std::vector<std::array<std::uint32_t, 256>> skips_;  // secrets_[i]'s search table
  std::string pending_;                                // received, not yet emitted
  bool in_pem_ = false;     // inside a private-key block: input is dropped
  bool reference_ = false;  // Reference(): the per-byte credential scan
};

}  // namespace outpost
