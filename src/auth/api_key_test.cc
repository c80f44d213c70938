#include "auth/api_key.h"

#include <gtest/gtest.h>

#include <set>

namespace outpost::auth {
namespace {

TEST(ApiKey, GeneratedKeysAreOtpAnd64HexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string k = GenerateApiKey();
    EXPECT_EQ(k.size(), 68u);
    EXPECT_TRUE(k.starts_with("otp_"));
    EXPECT_TRUE(IsWellFormedApiKey(k)) << k;
    EXPECT_TRUE(seen.insert(k).second);
  }
}

TEST(ApiKey, OnlyTheExactFormatIsWellFormed) {
  const std::string good = "otp_" + std::string(64, 'a');
  EXPECT_TRUE(IsWellFormedApiKey(good));
  EXPECT_FALSE(IsWellFormedApiKey(""));
  EXPECT_FALSE(IsWellFormedApiKey("otp_" + std::string(63, 'a')));
  EXPECT_FALSE(IsWellFormedApiKey("otp_" + std::string(65, 'a')));
  EXPECT_FALSE(IsWellFormedApiKey("otp_" + std::string(64, 'A')));  // lowercase only
  EXPECT_FALSE(IsWellFormedApiKey("otp_" + std::string(63, 'a') + "g"));
  EXPECT_FALSE(IsWellFormedApiKey("op_live_" + std::string(60, 'a')));
  EXPECT_FALSE(IsWellFormedApiKey("OTP_" + std::string(64, 'a')));
}

TEST(ApiKey, HashIsSha256Hex) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("").size(), 64u);
}

TEST(ApiKey, DigestAndSecretComparison) {
  const std::string a = Sha256Hex("a"), b = Sha256Hex("b");
  EXPECT_TRUE(DigestsEqual(a, a));
  EXPECT_FALSE(DigestsEqual(a, b));
  EXPECT_FALSE(DigestsEqual(a, a.substr(1)));
  EXPECT_TRUE(SecretsEqual("metrics-token-123456", "metrics-token-123456"));
  EXPECT_FALSE(SecretsEqual("metrics-token-123456", "metrics-token-12345"));
  EXPECT_FALSE(SecretsEqual("metrics-token-123456", ""));
}

TEST(ApiKey, DisplayPrefixIsTwelveCharacters) {
  EXPECT_EQ(DisplayPrefix("otp_0123456789abcdef"), "otp_01234567");
  EXPECT_EQ(DisplayPrefix("otp_"), "otp_");
}

TEST(ApiKey, ScopesParseAndEveryMistakeIsNamed) {
  auto ok = ParseScopes("dispatch, status,list");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (std::vector<std::string>{"dispatch", "status", "list"}));
  auto unknown = ParseScopes("dispatch,deploy");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'deploy'"), std::string::npos);
  auto twice = ParseScopes("list,list");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(ParseScopes("").ok());
  EXPECT_FALSE(ParseScopes("status,").ok());
}

}  // namespace
}  // namespace outpost::auth
