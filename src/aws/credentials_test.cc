#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::aws {
namespace {

using outpost::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = tmp_.path();
    fs::create_directories(home_ / ".aws");
  }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(home_ / rel) << text;
  }
  EnvMap Env(EnvMap extra = {}) {
    extra["HOME"] = home_.string();
    return extra;
  }
  testing::TempDir tmp_{"outpost-awscreds"};
  fs::path home_;
};

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  Write(".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = F\n");
  auto c = ResolveCredentials(Env(
      {{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "E"}, {"AWS_SESSION_TOKEN", "T"}}));
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "ENV");
  EXPECT_EQ(c->secret_access_key, "E");
  EXPECT_EQ(c->session_token, "T");
}

TEST_F(CredentialsTest, HalfSetEnvironmentNamesTheMissingVariable) {
  auto c = ResolveCredentials(Env({{"AWS_ACCESS_KEY_ID", "ENV"}}));
  EXPECT_THAT(c, StatusIs(Code::kFailedPrecondition, HasSubstr("AWS_SECRET_ACCESS_KEY is not")));
  c = ResolveCredentials(Env({{"AWS_SECRET_ACCESS_KEY", "E"}}));
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID is not"), std::string::npos);
}

TEST_F(CredentialsTest, DefaultProfileFromTheCredentialsFile) {
  Write(".aws/credentials",
        "# comment\n[other]\naws_access_key_id=O\naws_secret_access_key=O\n\n"
        "[default]\n  aws_access_key_id = AKID \nAWS_SECRET_ACCESS_KEY=SECRET\n"
        "aws_session_token = TOKEN==\n");
  auto c = ResolveCredentials(Env());
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKID");
  EXPECT_EQ(c->secret_access_key, "SECRET");
  EXPECT_EQ(c->session_token, "TOKEN==");
}

TEST_F(CredentialsTest, NamedProfileFromTheConfigFileWithProfilePrefix) {
  Write(".aws/config",
        "[default]\nregion = eu-west-1\n[profile ci]\nregion = us-west-2\n"
        "aws_access_key_id = CI\naws_secret_access_key = CIS\ns3 =\n  addressing_style = path\n");
  EnvMap env = Env({{"AWS_PROFILE", "ci"}});
  auto c = ResolveCredentials(env);
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "CI");
  auto r = ResolveRegion(env);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "us-west-2");
  EXPECT_EQ(*ResolveRegion(Env()), "eu-west-1");
}

TEST_F(CredentialsTest, FileLocationsCanBeOverridden) {
  Write("creds", "[p]\naws_access_key_id = X\naws_secret_access_key = Y\n");
  Write("conf", "[profile p]\nregion = ap-south-1\n");
  EnvMap env = Env({{"AWS_PROFILE", "p"},
                    {"AWS_SHARED_CREDENTIALS_FILE", (home_ / "creds").string()},
                    {"AWS_CONFIG_FILE", (home_ / "conf").string()}});
  EXPECT_EQ(ResolveCredentials(env)->access_key_id, "X");
  EXPECT_EQ(*ResolveRegion(env), "ap-south-1");
}

TEST_F(CredentialsTest, RegionEnvironmentVariablesWinInOrder) {
  Write(".aws/config", "[default]\nregion = eu-west-1\n");
  EXPECT_EQ(*ResolveRegion(Env({{"AWS_DEFAULT_REGION", "b"}})), "b");
  EXPECT_EQ(*ResolveRegion(Env({{"AWS_REGION", "a"}, {"AWS_DEFAULT_REGION", "b"}})), "a");
}

TEST_F(CredentialsTest, NothingConfiguredNamesWhatIsMissing) {
  auto c = ResolveCredentials(Env({{"AWS_PROFILE", "nope"}}));
  EXPECT_THAT(
      c, StatusIs(Code::kFailedPrecondition,
                  AllOf(HasSubstr("AWS_ACCESS_KEY_ID"), HasSubstr("profile 'nope' is not defined"),
                        HasSubstr((home_ / ".aws/credentials").string()))));
  auto r = ResolveRegion(Env());
  EXPECT_THAT(r, StatusIs(Code::kFailedPrecondition, HasSubstr("AWS_REGION")));
}

TEST_F(CredentialsTest, ProfileWithoutSecretIsAnError) {
  Write(".aws/credentials", "[default]\naws_access_key_id = AKID\n");
  auto c = ResolveCredentials(Env());
  EXPECT_THAT(c, StatusIs(Code::kFailedPrecondition, HasSubstr("no aws_secret_access_key")));
}

TEST_F(CredentialsTest, UnsupportedProviderIsNamed) {
  Write(".aws/config", "[profile sso]\nsso_session = corp\nregion = us-east-1\n");
  auto c = ResolveCredentials(Env({{"AWS_PROFILE", "sso"}}));
  EXPECT_THAT(c, StatusIs(Code::kFailedPrecondition, HasSubstr("sso_session")));
}

}  // namespace
}  // namespace outpost::aws
