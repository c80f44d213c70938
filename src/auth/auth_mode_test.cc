#include "auth/auth_mode.h"

#include <gtest/gtest.h>

#include "auth/admin_service.h"
#include "auth/testing/counting_auth_store.h"

namespace outpost::auth {
namespace {

TEST(IsLoopbackHost, LoopbackAddressesAndLocalhostOnly) {
  for (const char* host :
       {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "192.168.1.1", "example.com",
                           "localhost.example.com", "", "[::]"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(DescribeAuthMode, SaysInsecureOnlyWhenOpenBeyondLoopback) {
  SimulatedClock clock;
  testing::CountingAuthStore store;
  KeyVerifier verifier(store, clock);
  AuthModeReport loopback = DescribeAuthMode(verifier, true);
  EXPECT_FALSE(loopback.insecure);
  EXPECT_EQ(loopback.check.at("status"), "pass");
  EXPECT_EQ(loopback.check.at("mode"), "open");
  AuthModeReport exposed = DescribeAuthMode(verifier, false);
  EXPECT_TRUE(exposed.insecure);
  EXPECT_EQ(exposed.check.at("status"), "warn");

  AdminService admin(store, clock);
  auto t = admin.CreateTenant("acme");
  ASSERT_TRUE(admin.CreateKey({t->id, std::nullopt, "", std::nullopt}).ok());
  clock.Advance(Millis(1000));
  AuthModeReport keyed = DescribeAuthMode(verifier, false);
  EXPECT_FALSE(keyed.insecure);
  EXPECT_EQ(keyed.check.at("mode"), "api-keys");
  EXPECT_EQ(keyed.check.at("status"), "pass");
}

}  // namespace
}  // namespace outpost::auth
