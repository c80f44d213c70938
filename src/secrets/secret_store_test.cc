#include "secrets/secret_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace outpost {
namespace {

class DirSecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/outpost-secrets-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& value, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << value;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  std::string dir_;
};

TEST(EnvSecretStore, ReadsPrefixedVariablesOnly) {
  EnvSecretStore s({{"OUTPOST_SECRET_MY_TOKEN", "v1"},
                    {"MY_TOKEN", "plain"},
                    {"OUTPOST_SECRET_lower", "x"},
                    {"OUTPOST_SECRET_EMPTY", ""}});
  auto v = s.Get("MY_TOKEN");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, "v1");
  EXPECT_TRUE(s.Has("MY_TOKEN"));
  EXPECT_EQ(s.Get("OTHER").status().code(), Code::kNotFound);
  EXPECT_EQ(s.Get("EMPTY").status().code(), Code::kNotFound);
  EXPECT_EQ(s.Names(), std::vector<std::string>{"MY_TOKEN"});
}

TEST_F(DirSecretStoreTest, ReadsA0600FileAndStripsOneTrailingNewline) {
  Write("API_KEY", "s3cret-value\n", 0600);
  Write("TWO_LINES", "a\nb\n\n", 0600);
  DirSecretStore s(dir_);
  auto v = s.Get("API_KEY");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, "s3cret-value");
  EXPECT_EQ(*s.Get("TWO_LINES"), "a\nb\n");
  EXPECT_EQ(s.Names(), (std::vector<std::string>{"API_KEY", "TWO_LINES"}));
}

TEST_F(DirSecretStoreTest, RefusesAFileOthersCanRead) {
  Write("API_KEY", "v", 0644);
  DirSecretStore s(dir_);
  auto v = s.Get("API_KEY");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Code::kPermissionDenied);
  EXPECT_NE(v.status().message().find("must be mode 0600"), std::string::npos);
  EXPECT_NE(v.status().message().find("0644"), std::string::npos);
  EXPECT_FALSE(s.Has("API_KEY"));
}

TEST_F(DirSecretStoreTest, RefusesSymlinksAndReportsAbsentAsNotFound) {
  Write("REAL", "v", 0600);
  std::filesystem::create_symlink(dir_ + "/REAL", dir_ + "/LINK");
  DirSecretStore s(dir_);
  EXPECT_EQ(s.Get("LINK").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(s.Get("ABSENT").status().code(), Code::kNotFound);
  EXPECT_EQ(s.Get("../REAL").status().code(), Code::kNotFound);
  EXPECT_EQ(DirSecretStore("/nonexistent/dir").Get("X").status().code(), Code::kNotFound);
}

TEST_F(DirSecretStoreTest, ChainPrefersEnvironmentThenDirectory) {
  Write("BOTH", "from-file", 0600);
  Write("FILE_ONLY", "file", 0600);
  Write("LOOSE", "file", 0640);
  auto s = MakeSecretStore({{"OUTPOST_SECRET_BOTH", "from-env"}}, dir_);
  EXPECT_EQ(*s->Get("BOTH"), "from-env");
  EXPECT_EQ(*s->Get("FILE_ONLY"), "file");
  EXPECT_EQ(s->Get("NONE").status().code(), Code::kNotFound);
  EXPECT_EQ(s->Get("LOOSE").status().code(), Code::kPermissionDenied);
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
