// The dynamodb:// AuthStore: the shared AuthStore conformance suite against a real dynalite
// started by this binary (each test on fresh tables under a unique prefix), the tables'
// creation and their absence.
#include "store/dynamodb/dynamodb_auth_store.h"

#include <unistd.h>

#include <atomic>

#include "aws/dynalite_fixture.h"
#include "store/auth_store_conformance.h"

namespace outpost::dynamodb {
namespace {

using aws::testing::Dynalite;

Dynalite& Server() {
  static Dynalite server;  // stopped (by pid) at exit
  return server;
}

aws::EnvMap Env() {
  return {{"AWS_ACCESS_KEY_ID", Dynalite::kAccessKey},
          {"AWS_SECRET_ACCESS_KEY", Dynalite::kSecretKey},
          {"HOME", "/nonexistent"}};
}

std::string UniquePrefix() {
  static std::atomic<int> n{0};
  return "a" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

std::string UrlFor(const std::string& prefix) {
  return "dynamodb://" + prefix + "?region=us-east-1&endpoint=" + Server().endpoint();
}

DynamoDbAuthStoreOptions TestOptions(bool create) {
  DynamoDbAuthStoreOptions o;
  o.create_tables = create;
  return o;
}

std::unique_ptr<AuthStore> NewDynaliteAuthStore() {
  if (!Server().ok()) {
    ADD_FAILURE() << "dynalite: " << Server().error();
    return nullptr;
  }
  auto store = DynamoDbAuthStore::Open(UrlFor(UniquePrefix()), Env(), RealClock::Instance(),
                                       TestOptions(true));
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(*store);
}

INSTANTIATE_TEST_SUITE_P(Dynalite, AuthStoreConformance,
                         ::testing::Values(AuthStoreFactory(&NewDynaliteAuthStore)));

class DynamoDbAuthStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Server().ok()) << Server().error(); }
};

TEST_F(DynamoDbAuthStoreTest, MissingTablesAreNamedWithTheFlagThatCreatesThem) {
  const std::string prefix = UniquePrefix();
  auto store =
      DynamoDbAuthStore::Open(UrlFor(prefix), Env(), RealClock::Instance(), TestOptions(false));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find(prefix + "-tenants"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("--create-tables"), std::string::npos);
}

TEST_F(DynamoDbAuthStoreTest, TablesAreCreatedUnderTheStorePrefixWithTheHashIndex) {
  const std::string prefix = UniquePrefix();
  auto created =
      DynamoDbAuthStore::Open(UrlFor(prefix), Env(), RealClock::Instance(), TestOptions(true));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)->tables().tenants, prefix + "-tenants");
  EXPECT_EQ((*created)->tables().api_keys, prefix + "-api-keys");
  // Opening again without --create-tables finds them (and their index) in place.
  auto reopened =
      DynamoDbAuthStore::Open(UrlFor(prefix), Env(), RealClock::Instance(), TestOptions(false));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
}

}  // namespace
}  // namespace outpost::dynamodb
