#include "secrets/secret_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost {
namespace {

using outpost::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class DirSecretStoreTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& value, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << value;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  testing::TempDir tmp_{"outpost-secrets"};
  const std::string dir_ = tmp_.path();
};

TEST(EnvSecretStore, ReadsPrefixedVariablesOnly) {
  EnvSecretStore s({{"OUTPOST_SECRET_MY_TOKEN", "v1"},
                    {"MY_TOKEN", "plain"},
                    {"OUTPOST_SECRET_lower", "x"},
                    {"OUTPOST_SECRET_EMPTY", ""}});
  auto v = s.Get("MY_TOKEN");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "v1");
  EXPECT_TRUE(s.Has("MY_TOKEN"));
  EXPECT_THAT(s.Get("OTHER"), StatusIs(Code::kNotFound));
  EXPECT_THAT(s.Get("EMPTY"), StatusIs(Code::kNotFound));
  EXPECT_EQ(s.Names(), std::vector<std::string>{"MY_TOKEN"});
}

TEST_F(DirSecretStoreTest, ReadsA0600FileAndStripsOneTrailingNewline) {
  Write("API_KEY", "s3cret-value\n", 0600);
  Write("TWO_LINES", "a\nb\n\n", 0600);
  DirSecretStore s(dir_);
  auto v = s.Get("API_KEY");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "s3cret-value");
  EXPECT_EQ(*s.Get("TWO_LINES"), "a\nb\n");
  EXPECT_EQ(s.Names(), (std::vector<std::string>{"API_KEY", "TWO_LINES"}));
}

TEST_F(DirSecretStoreTest, RefusesAFileOthersCanRead) {
  Write("API_KEY", "v", 0644);
  DirSecretStore s(dir_);
  auto v = s.Get("API_KEY");
  ASSERT_THAT(v, StatusIs(Code::kPermissionDenied,
                          AllOf(HasSubstr("must be mode 0600"), HasSubstr("0644"))));
  EXPECT_FALSE(s.Has("API_KEY"));
}

TEST_F(DirSecretStoreTest, RefusesSymlinksAndReportsAbsentAsNotFound) {
  Write("REAL", "v", 0600);
  std::filesystem::create_symlink(dir_ + "/REAL", dir_ + "/LINK");
  DirSecretStore s(dir_);
  EXPECT_THAT(s.Get("LINK"), StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(s.Get("ABSENT"), StatusIs(Code::kNotFound));
  EXPECT_THAT(s.Get("../REAL"), StatusIs(Code::kNotFound));
  EXPECT_THAT(DirSecretStore("/nonexistent/dir").Get("X"), StatusIs(Code::kNotFound));
}

TEST_F(DirSecretStoreTest, ChainPrefersEnvironmentThenDirectory) {
  Write("BOTH", "from-file", 0600);
  Write("FILE_ONLY", "file", 0600);
  Write("LOOSE", "file", 0640);
  auto s = MakeSecretStore({{"OUTPOST_SECRET_BOTH", "from-env"}}, dir_);
  EXPECT_EQ(*s->Get("BOTH"), "from-env");
  EXPECT_EQ(*s->Get("FILE_ONLY"), "file");
  EXPECT_THAT(s->Get("NONE"), StatusIs(Code::kNotFound));
  EXPECT_THAT(s->Get("LOOSE"), StatusIs(Code::kPermissionDenied));
  EXPECT_EQ(s->Names(), (std::vector<std::string>{"BOTH", "FILE_ONLY", "LOOSE"}));
}

TEST(SecretName, FollowsTheOriginalKeyRules) {
  EXPECT_TRUE(ValidSecretName("A"));
  EXPECT_TRUE(ValidSecretName("MY_TOKEN_2"));
  EXPECT_FALSE(ValidSecretName(""));
  EXPECT_FALSE(ValidSecretName("1ABC"));
  EXPECT_FALSE(ValidSecretName("_ABC"));
  EXPECT_FALSE(ValidSecretName("my_token"));
  EXPECT_FALSE(ValidSecretName("A-B"));
  EXPECT_TRUE(ValidSecretName(std::string(128, 'A')));
  EXPECT_FALSE(ValidSecretName(std::string(129, 'A')));
}

}  // namespace
}  // namespace outpost
