#include "testing/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <utility>

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

TEST(TempDir, IsAFreshPrivateDirectoryUnderTheBaseRemovedWithItsContent) {
  std::string path;
  {
    TempDir dir("kit");
    path = dir.path();
    EXPECT_TRUE(path.starts_with("/tmp/kit-")) << path;
    ASSERT_TRUE(fs::is_directory(path));
    EXPECT_TRUE(fs::is_empty(path));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    dir.WriteFile("a/b/c.txt", "nested");
    EXPECT_EQ(dir.ReadFile("a/b/c.txt"), "nested");
  }
  EXPECT_FALSE(fs::exists(path)) << path;
}

TEST(TempDir, TwoDirectoriesDiffer) {
  TempDir a, b;
  EXPECT_NE(a.path(), b.path());
}

TEST(TempDir, WriteFileReplacesAndReturnsThePath) {
  TempDir dir;
  EXPECT_EQ(dir.WriteFile("f", "first, longer"), dir.Join("f"));
  dir.WriteFile("f", "second");
  EXPECT_EQ(dir.ReadFile("f"), "second");
  EXPECT_EQ(dir.ReadFile(dir.Join("f")), "second");  // absolute paths are read as they are
  dir.WriteFile("empty", "");
  EXPECT_EQ(dir.ReadFile("empty"), "");
}

TEST(TempDir, ReadingAMissingFileThrowsNamingIt) {
  TempDir dir;
  try {
    (void)dir.ReadFile("missing");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read " + dir.Join("missing"));
  }
}

TEST(TempDir, AMissingBaseThrowsNamingTheTemplate) {
  try {
    TempDir dir("x", "/nonexistent-outpost-base");
    ADD_FAILURE() << "created " << dir.path();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "mkdtemp /nonexistent-outpost-base/x-XXXXXX: No such file or directory");
  }
}

TEST(TempDir, ReleaseKeepsTheDirectory) {
  std::string kept;
  {
    TempDir dir;
    kept = dir.Release();
    EXPECT_EQ(dir.path(), "");
  }
  EXPECT_TRUE(fs::is_directory(kept));
  fs::remove_all(kept);
}

TEST(TempDir, AMoveTransfersOwnership) {
  TempDir a;
  const std::string path = a.path();
  TempDir b = std::move(a);
  EXPECT_EQ(b.path(), path);
  EXPECT_EQ(a.path(), "");  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  {
    TempDir c;
    const std::string replaced = c.path();
    c = std::move(b);
    EXPECT_FALSE(fs::exists(replaced));  // the assigned-over directory is removed
    EXPECT_EQ(c.path(), path);
  }
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace outpost::testing
