#include "auth/admin_service.h"

#include <gtest/gtest.h>

#include "auth/api_key.h"
#include "auth/testing/counting_auth_store.h"

namespace outpost::auth {
namespace {

class AdminServiceTest : public ::testing::Test {
 protected:
  SimulatedClock clock_;
  testing::CountingAuthStore store_;
  AdminService admin_{store_, clock_};
};

TEST_F(AdminServiceTest, TenantNamesAreValidatedAndUnique) {
  auto t = admin_.CreateTenant("Acme Corp");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->status, TenantStatus::kActive);
  EXPECT_EQ(*store_.GetTenant(t->id), *t);
  EXPECT_EQ(admin_.CreateTenant("Acme Corp").status().code(), Code::kConflict);
  auto empty = admin_.CreateTenant("");
  ASSERT_EQ(empty.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(empty.status().details().at("errors").at(0).at("path"), "name");
  EXPECT_EQ(admin_.CreateTenant(std::string(101, 'x')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(admin_.CreateTenant("a\nb").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(admin_.ListTenants()->size(), 1u);  // nothing else was created
}

TEST_F(AdminServiceTest, AKeyIsShownOnceAndStoredOnlyAsItsHash) {
  auto t = admin_.CreateTenant("acme");
  auto k = admin_.CreateKey({t->id, std::nullopt, "deploy bot", std::nullopt});
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_TRUE(IsWellFormedApiKey(k->key));
  const ApiKeyRecord stored = *store_.GetKey(k->record.key_id);
  EXPECT_EQ(stored, k->record);
  EXPECT_EQ(stored.hash, Sha256Hex(k->key));
  EXPECT_EQ(stored.prefix, k->key.substr(0, 12));
  EXPECT_EQ(stored.scopes, DefaultKeyScopes());
  for (const std::string& field :
       {stored.key_id, stored.tenant, stored.name, stored.prefix, stored.hash}) {
    EXPECT_EQ(field.find(k->key.substr(12)), std::string::npos);
  }
}

TEST_F(AdminServiceTest, KeyRequestsAreValidated) {
  auto t = admin_.CreateTenant("acme");
  auto field_of = [](const Status& st) {
    return std::string(st.details().at("errors").at(0).at("path").as_string());
  };
  auto past = admin_.CreateKey({t->id, std::nullopt, "", clock_.Now() - Millis(1)});
  ASSERT_EQ(past.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(field_of(past.status()), "expiresAt");
  auto no_scopes = admin_.CreateKey({t->id, std::vector<std::string>{}, "", std::nullopt});
  ASSERT_EQ(no_scopes.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(field_of(no_scopes.status()), "scopes");
  auto bad_tenant = admin_.CreateKey({"acme", std::nullopt, "", std::nullopt});
  ASSERT_EQ(bad_tenant.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(field_of(bad_tenant.status()), "tenant");
  EXPECT_EQ(admin_.CreateKey({"01ARZ3NDEKTSV4RRFFQ69G5FAV", std::nullopt, "", std::nullopt})
                .status()
                .code(),
            Code::kNotFound);
  ASSERT_TRUE(admin_.SuspendTenant(t->id).ok());
  EXPECT_EQ(admin_.CreateKey({t->id, std::nullopt, "", std::nullopt}).status().code(),
            Code::kFailedPrecondition);
  EXPECT_TRUE(store_.ListKeys(std::nullopt)->empty());  // nothing was stored
}

TEST_F(AdminServiceTest, ListingAndRevokingNameWhatIsMissing) {
  auto t = admin_.CreateTenant("acme");
  auto k = admin_.CreateKey({t->id, std::vector<std::string>{"status"}, "", std::nullopt});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(admin_.ListKeys(t->id)->size(), 1u);
  EXPECT_EQ(admin_.ListKeys("01ARZ3NDEKTSV4RRFFQ69G5FAV").status().code(), Code::kNotFound);
  auto revoked = admin_.RevokeKey(k->record.key_id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->status, KeyStatus::kRevoked);
  EXPECT_EQ(admin_.RevokeKey("01ARZ3NDEKTSV4RRFFQ69G5FAV").status().code(), Code::kNotFound);
  EXPECT_EQ(admin_.RevokeKey("nope").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(admin_.SuspendTenant("01ARZ3NDEKTSV4RRFFQ69G5FAV").status().code(), Code::kNotFound);
}

TEST(ParseDuration, UnitsAndBounds) {
  EXPECT_EQ(*ParseDuration("30d"), std::chrono::seconds(30 * 86400));
  EXPECT_EQ(*ParseDuration("12h"), std::chrono::seconds(12 * 3600));
  EXPECT_EQ(*ParseDuration("90m"), std::chrono::seconds(90 * 60));
  EXPECT_EQ(*ParseDuration("3600s"), std::chrono::seconds(3600));
  for (const char* bad : {"", "d", "30", "0d", "-1d", "1.5h", "30x", "30 d", "99999999999d"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().details().at("errors").at(0).at("path"), "--expires-in") << bad;
  }
}

}  // namespace
}  // namespace outpost::auth
