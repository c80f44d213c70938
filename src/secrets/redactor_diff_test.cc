// Differential test: the anchor-prefiltered credential scan (Redactor) against the original
// per-byte scan (Redactor::Reference) on random and adversarial inputs, whole and in chunks.
#include <gtest/gtest.h>

#include <random>

#include "secrets/redactor.h"

namespace outpost {
namespace {

std::string Chunked(Redactor r, std::string_view text, std::mt19937& rng, std::size_t max_chunk) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = 1 + rng() % max_chunk;
    out += r.Feed(text.substr(i, n));
    i += n;
  }
  return out + r.Flush();
}

// Both scanners must agree one-shot and for the same random chunking. (Chunked vs. one-shot is
// not compared: the original already differs there when a token's body holds "-----BEGIN",
// e.g. "xoxb-------BEGINx…" with no header line end yet is cut before the "-----BEGIN".)
void ExpectSame(std::string_view text, const std::vector<std::string>& secrets, std::mt19937& rng) {
  Redactor ref = Redactor::Reference(secrets);
  std::string ref_all = ref.Feed(text);
  ref_all += ref.Flush();
  const std::string got_all = Redactor::RedactAll(text, secrets);
  ASSERT_EQ(got_all, ref_all) << "text: " << testing::PrintToString(std::string(text));
  for (std::size_t max_chunk : {1, 3, 17, 4096}) {
    std::mt19937 a(rng()), b = a;
    const std::string ref_chunked = Chunked(Redactor::Reference(secrets), text, b, max_chunk);
    ASSERT_EQ(Chunked(Redactor(secrets), text, a, max_chunk), ref_chunked)
        << "max_chunk " << max_chunk << " text: " << testing::PrintToString(std::string(text));
  }
}

// Fragments that start, extend or nearly complete every pattern.
const std::vector<std::string> kPieces = {"g",
                                          "gh",
                                          "gi",
                                          "ghp_",
                                          "gho_",
                                          "ghu_",
                                          "ghs_",
                                          "ghr_",
                                          "github_pat_",
                                          "github_pa",
                                          "s",
                                          "sk",
                                          "sk-",
                                          "sk-ant-",
                                          "sk-proj-",
                                          "sk-an",
                                          "A",
                                          "AK",
                                          "AKIA",
                                          "ASIA",
                                          "AS",
                                          "x",
                                          "xo",
                                          "xoxb-",
                                          "xoxp-",
                                          "xoxa-",
                                          "xox",
                                          "e",
                                          "ey",
                                          "eyJ",
                                          ".",
                                          "-",
                                          "_",
                                          "\n",
                                          " ",
                                          "=",
                                          "-----BEGIN RSA PRIVATE KEY-----\n",
                                          "-----END RSA PRIVATE KEY-----\n",
                                          "-----BEGIN",
                                          "-----END ",
                                          "-----",
                                          "PRIVATE KEY",
                                          "hunter22",
                                          "hunt",
                                          "secret-value",
                                          "secret",
                                          "0123456789abcdefghij",
                                          "ABCDEFGHIJKLMNOP",
                                          "zz",
                                          "\x00",
                                          "\xff\xfe",
                                          "\x80"};

std::string RandomText(std::mt19937& rng, std::size_t pieces) {
  std::string s;
  for (std::size_t i = 0; i < pieces; ++i) {
    switch (rng() % 4) {
      case 0:
      case 1:
        s += kPieces[rng() % kPieces.size()];
        break;
      case 2:  // a run of body characters of a random length around the patterns' minimums
        for (std::size_t n = rng() % 40; n > 0; --n) {
          s += "aZ09_-"[rng() % 6];
        }
        break;
      default:  // arbitrary bytes
        for (std::size_t n = rng() % 8; n > 0; --n) s += static_cast<char>(rng() % 256);
    }
  }
  return s;
}

TEST(RedactorDiff, RandomTextsAgreeWithTheReference) {
  std::mt19937 rng(20261206);
  const std::vector<std::string> secrets = {"hunter22", "secret-value", "eyJsecret"};
  for (int i = 0; i < 600; ++i) {
    std::string text = RandomText(rng, 1 + rng() % 60);
    ASSERT_NO_FATAL_FAILURE(
        ExpectSame(text, i % 2 == 0 ? secrets : std::vector<std::string>{}, rng));
  }
}

TEST(RedactorDiff, EverySplitOfEachPatternAtTheBufferEnds) {
  std::mt19937 rng(7);
  const std::vector<std::string> tokens = {
      "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
      "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
      "sk-ant-api03-secret",
      "sk-proj-abcdefghijklmnopqrstuv-xy",
      "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
      "AKIAIOSFODNN7EXAMPLE",
      "ASIAIOSFODNN7EXAMPLEXX",
      "xoxb-1234567890-abcdefghij",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP",
      "hunter22"};
  for (const auto& t : tokens) {
    for (const std::string& text : {t, t + t, "x" + t + "y", "sk" + t, t + "-----BEGIN"}) {
      ASSERT_NO_FATAL_FAILURE(ExpectSame(text, {"hunter22"}, rng));
      Redactor ref = Redactor::Reference({"hunter22"});
      std::string want = ref.Feed(text);
      want += ref.Flush();
      EXPECT_EQ(want.find(t), std::string::npos) << t;
      for (std::size_t at = 0; at <= text.size(); ++at) {
        Redactor r({"hunter22"});
        std::string got = r.Feed(std::string_view(text).substr(0, at));
        got += r.Feed(std::string_view(text).substr(at));
        ASSERT_EQ(got + r.Flush(), want) << text << " split at " << at;
      }
    }
  }
}

TEST(RedactorDiff, LongRunsOfNearMissesAndOverlaps) {
  std::mt19937 rng(11);
  std::string near;
  for (int i = 0; i < 150; ++i) {
    near += "sk-" + std::string(31, 'a') + " ";   // one short of the OpenAI minimum
    near += "AKIA" + std::string(15, 'B') + " ";  // one short of an AWS key id
    near += "ghp_" + std::string(19, 'c') + " ";  // one short of a GitHub token
    near += "eyJa.eyJ.x ";                        // the second part too short
    near += "gigigi ghgh skskAKAS xoxo eyey\n";
  }
  ASSERT_NO_FATAL_FAILURE(ExpectSame(near, {}, rng));
  EXPECT_EQ(Redactor::RedactAll(near), near);
  // Overlapping shapes: a GitHub prefix inside an OpenAI key, a secret containing a token.
  const std::string overlap = "sk-ghp_0123456789abcdefghijklmnop sk-ant-sk-proj-" +
                              std::string(40, 'q') + " AKIAAKIAAKIAAKIAAKIA eyJeyJ.eyJeyJ.eyJ";
  ASSERT_NO_FATAL_FAILURE(ExpectSame(overlap, {"ghp_0123456789abcdefghij"}, rng));
  ASSERT_NO_FATAL_FAILURE(ExpectSame(std::string(5000, 'g') + std::string(5000, 'e'), {}, rng));
  // Secrets that overlap themselves, each other and the replacement text.
  const std::string runs = std::string(999, 'a') + "[REDACTED]ED]" + std::string(50, 'b') + "aab";
  ASSERT_NO_FATAL_FAILURE(
      ExpectSame(runs, {"aaaa", "aaaaaaa", "aab", "ED]a", "D]ED]", "bbbb"}, rng));
  ASSERT_NO_FATAL_FAILURE(ExpectSame(runs, {"[REDACTED]", "CTED"}, rng));
}

TEST(RedactorDiff, BinaryBytesAgree) {
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string text(rng() % 300, '\0');
    for (char& c : text) c = static_cast<char>(rng() % 256);
    // Plant an anchor or a whole token at a random place.
    const std::string& piece = kPieces[rng() % kPieces.size()];
    text.insert(text.empty() ? 0 : rng() % text.size(),
                piece + "0123456789abcdefghijklmnopqrstuvwxyz");
    ASSERT_NO_FATAL_FAILURE(ExpectSame(text, {"\xff\xfe\x01\x02"}, rng));
  }
}

}  // namespace
}  // namespace outpost
