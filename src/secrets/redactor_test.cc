#include "secrets/redactor.h"

#include <gtest/gtest.h>

namespace outpost {
namespace {

std::string FeedInTwo(std::string_view text, std::size_t at, std::vector<std::string> secrets) {
  Redactor r(std::move(secrets));
  std::string out = r.Feed(text.substr(0, at));
  out += r.Feed(text.substr(at));
  return out + r.Flush();
}

std::string FeedByteByByte(std::string_view text, std::vector<std::string> secrets) {
  Redactor r(std::move(secrets));
  std::string out;
  for (char c : text) out += r.Feed(std::string_view(&c, 1));
  return out + r.Flush();
}

TEST(Redactor, ReplacesConfiguredSecretValues) {
  EXPECT_EQ(Redactor::RedactAll("token=hunter2-xyz done\n", {"hunter2-xyz"}),
            "token=[REDACTED] done\n");
  EXPECT_EQ(Redactor::RedactAll("a b a\n", {"a b a"}), "[REDACTED]\n");
  EXPECT_EQ(Redactor::RedactAll("abc is short\n", {"abc"}), "abc is short\n");
}

TEST(Redactor, ReplacesEachCredentialPattern) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "[REDACTED]"},
      {"gho_0123456789abcdefghijklmnopqrstuvwxyzAB", "[REDACTED]"},
      {"ghu_0123456789abcdefghijklmnopqrstuvwxyzAB", "[REDACTED]"},
      {"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[REDACTED]"},
      {"sk-ant-api03-secret", "[REDACTED]"},
      {"sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD", "[REDACTED]"},
      {"AKIAIOSFODNN7EXAMPLE", "[REDACTED]"},
      {"ASIAIOSFODNN7EXAMPLE", "[REDACTED]"},
      {"xoxb-1234567890-abcdefghij", "[REDACTED]"},
      {"xoxp-1234567890-abcdefghij", "[REDACTED]"},
      {"xoxa-1234567890-abcdefghij", "[REDACTED]"},
      {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
       "[REDACTED_JWT]"},
  };
  for (const auto& [secret, replacement] : cases) {
    EXPECT_EQ(Redactor::RedactAll("key: " + secret + " end\n"), "key: " + replacement + " end\n")
        << secret;
  }
}

TEST(Redactor, ReplacesAPemPrivateKeyBlockAcrossLines) {
  std::string text =
      "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nline2+/=\n"
      "-----END RSA PRIVATE KEY-----\nafter\n";
  std::string want = "before\n[REDACTED_PEM]\nafter\n";
  EXPECT_EQ(Redactor::RedactAll(text), want);
  for (std::size_t at = 0; at <= text.size(); ++at) {
    EXPECT_EQ(FeedInTwo(text, at, {}), want) << "split at " << at;
  }
  EXPECT_EQ(FeedByteByByte(text, {}), want);
}

TEST(Redactor, KeepsACertificateAndAnUnterminatedHeaderLine) {
  std::string cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(Redactor::RedactAll(cert), cert);
}

TEST(Redactor, SecretsSplitAtEveryChunkBoundaryAreStillRedacted) {
  std::string text =
      "value my-secret-value, gh ghp_0123456789abcdefghijklmnopqrstuvwxyzAB and "
      "sk-ant-api03-secret; aws AKIAIOSFODNN7EXAMPLE jwt eyJa.eyJb.c tail";
  std::string want = Redactor::RedactAll(text, {"my-secret-value"});
  EXPECT_EQ(want,
            "value [REDACTED], gh [REDACTED] and [REDACTED]; aws [REDACTED] jwt "
            "[REDACTED_JWT] tail");
  for (std::size_t at = 0; at <= text.size(); ++at) {
    EXPECT_EQ(FeedInTwo(text, at, {"my-secret-value"}), want) << "split at " << at;
  }
  EXPECT_EQ(FeedByteByByte(text, {"my-secret-value"}), want);
}

TEST(Redactor, EmitsOrdinaryTextWithoutWaitingForANewline) {
  Redactor r({"my-secret-value"});
  EXPECT_EQ(r.Feed("Progress: 50% "), "Progress: 50% ");
  EXPECT_EQ(r.Feed("working on it"), "working on it");
  // A possible start of a secret or token is held until it is decided.
  EXPECT_EQ(r.Feed(" my-sec"), " ");
  EXPECT_EQ(r.Feed("ret-value!"), "[REDACTED]!");
  EXPECT_EQ(r.Feed(" ghp_01"), " ");
  EXPECT_EQ(r.Flush(), "ghp_01");
}

TEST(Redactor, LeavesOrdinaryTextAlone) {
  std::string text =
      "Ran 12 tests; sk-learn is fine; ask-me; AKIA short; eyJ alone; the github_pat_ docs;\n"
      "xoxb-short, ghp_tooshort, risk-averse tasks, -----BEGIN NOTHING\n";
  EXPECT_EQ(Redactor::RedactAll(text, {"abc"}), text);
  EXPECT_EQ(FeedByteByByte(text, {}), text);
}

TEST(Redactor, HoldsAtMost64KiBOfASingleToken) {
  Redactor r;
  std::string big = "ghp_" + std::string(70 * 1024, 'a');
  std::string out = r.Feed(big);
  EXPECT_EQ(out, "[REDACTED]");
  EXPECT_EQ(r.Flush(), "");
}

// Audit F11: a token run of more than 64 KiB forced a flush that emitted the first part of a
// secret, and its rest, arriving later, joined it in the log. Every split point of the secret
// around the 64 KiB hold, with the rest in a later chunk: the forced flush happens when the
// first chunk ("eyJ" + filler + k bytes of the secret) passes 64 KiB, which these fillers span.
TEST(Redactor, F11_ASecretStraddlingTheForcedFlushIsNeverSplit) {
  const std::string secret = "supersecretvalue123";
  constexpr std::size_t kHold = 64 * 1024;
  for (std::size_t filler = kHold - 3 - 20; filler <= kHold - 3 + 4; ++filler) {
    for (std::size_t k = 1; k < secret.size(); ++k) {
      const std::string text = "eyJ" + std::string(filler, 'a') + secret + " done\n";
      Redactor r({secret});
      std::string out = r.Feed(std::string_view(text).substr(0, 3 + filler + k));
      out += r.Feed(std::string_view(text).substr(3 + filler + k));
      out += r.Flush();
      ASSERT_EQ(out.find("supersec"), std::string::npos) << "filler " << filler << " split " << k;
      ASSERT_NE(out.find("[REDACTED] done\n"), std::string::npos) << filler << "/" << k;
    }
  }
}

}  // namespace
}  // namespace outpost
