#include "runner/netproxy/allowlist.h"

#include <gtest/gtest.h>

namespace outpost::netproxy {
namespace {

Allowlist Make(const std::vector<std::string>& patterns) {
  auto a = Allowlist::Create(patterns);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? std::move(a).value() : Allowlist();
}

TEST(Allowlist, ExactNameMatchesOnlyThatHostAndPort) {
  Allowlist a = Make({"api.anthropic.com:443"});
  EXPECT_TRUE(a.Allows("api.anthropic.com", 443));
  EXPECT_FALSE(a.Allows("api.anthropic.com", 80));
  EXPECT_FALSE(a.Allows("anthropic.com", 443));
  EXPECT_FALSE(a.Allows("x.api.anthropic.com", 443));
  EXPECT_FALSE(a.Allows("api.anthropic.com.evil.net", 443));
}

TEST(Allowlist, WildcardMatchesSubdomainsButNotTheApex) {
  Allowlist a = Make({"*.example.com:443"});
  EXPECT_TRUE(a.Allows("a.example.com", 443));
  EXPECT_TRUE(a.Allows("a.b.example.com", 443));
  EXPECT_FALSE(a.Allows("example.com", 443));
  EXPECT_FALSE(a.Allows("badexample.com", 443));
  EXPECT_FALSE(a.Allows("a.example.com", 8443));
}

TEST(Allowlist, PortStarMatchesAnyPort) {
  Allowlist a = Make({"registry.npmjs.org:*"});
  EXPECT_TRUE(a.Allows("registry.npmjs.org", 1));
  EXPECT_TRUE(a.Allows("registry.npmjs.org", 65535));
  EXPECT_FALSE(a.Allows("registry.npmjs.org", 0));
  EXPECT_FALSE(a.Allows("registry.npmjs.org", 70000));
}

TEST(Allowlist, HostMatchIsCaseInsensitiveAndIgnoresRootDot) {
  Allowlist a = Make({"API.Example.COM:443", "*.CDN.net:443"});
  EXPECT_TRUE(a.Allows("api.example.com", 443));
  EXPECT_TRUE(a.Allows("Api.Example.Com.", 443));
  EXPECT_TRUE(a.Allows("X.cdn.NET", 443));
}

TEST(Allowlist, IpLiteralMatchesByAddressNotByName) {
  Allowlist a = Make({"10.0.0.7:8080", "[2001:db8::1]:443", "169.254.169.254:80"});
  EXPECT_TRUE(a.Allows("10.0.0.7", 8080));
  EXPECT_FALSE(a.Allows("10.0.0.8", 8080));
  EXPECT_TRUE(a.Allows("2001:db8::1", 443));
  EXPECT_TRUE(a.Allows("[2001:db8:0::1]", 443));
  EXPECT_TRUE(a.Allows("169.254.169.254", 80));
  EXPECT_FALSE(a.Allows("169.254.169.254", 81));
}

TEST(Allowlist, WildcardNeverMatchesAnIpLiteral) {
  Allowlist a = Make({"*.0.0.1:80"});
  EXPECT_FALSE(a.Allows("127.0.0.1", 80));
}

TEST(Allowlist, EmptyListAllowsNothing) {
  Allowlist a = Make({});
  EXPECT_FALSE(a.Allows("example.com", 443));
}

TEST(Allowlist, MalformedPatternsAreRejectedWithTheirIndex) {
  for (const std::string bad :
       {"", "example.com", "example.com:", ":443", "example.com:0", "example.com:65536",
        "example.com:http", "*:443", "*.com.:x", "exa mple.com:443", "a..b:443", "*example.com:443",
        "*.*.example.com:443", "::1:443", "[::1:443", "[nothost]:443", "a_b.c:443:1"}) {
    auto a = Allowlist::Create({"ok.example:443", bad});
    ASSERT_FALSE(a.ok()) << "accepted \"" << bad << "\"";
    EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
    auto errors = a.status().details().at("errors").as_array();
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].as_object().at("path").as_string(), "allow[1]");
  }
}

TEST(Allowlist, ReportsEveryMalformedPattern) {
  auto a = Allowlist::Create({"bad", "ok.example:443", "also:bad"});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().details().at("errors").as_array().size(), 2u);
}

TEST(Allowlist, IsValidHost) {
  EXPECT_TRUE(Allowlist::IsValidHost("example.com"));
  EXPECT_TRUE(Allowlist::IsValidHost("::1"));
  EXPECT_FALSE(Allowlist::IsValidHost("exa mple.com"));
  EXPECT_FALSE(Allowlist::IsValidHost(""));
}

}  // namespace
}  // namespace outpost::netproxy
