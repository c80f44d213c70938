// shim::ScrubTree on real directories: what it rewrites, removes and renames, and that it never
// follows a link out of the tree (it runs as root over directories an agent wrote).
#include "runner/shim/scrub.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runner/runner_test_util.h"

namespace outpost::shim {
namespace {

namespace fs = std::filesystem;
using outpost::testing::Slurp;
using outpost::testing::TempDir;

constexpr char kValue[] = "scrub-value-93e1";

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(ScrubTree, Secrets_AtRest_RedactsRemovesAndRenamesWithoutFollowingLinks) {
  TempDir tmp;
  const std::string root = tmp.path() + "/home", out = tmp.path() + "/outside";
  Write(root + "/a.txt", std::string("x ") + kValue + " y\n");
  Write(root + "/clean.txt", "nothing\n");
  Write(root + "/.codex/shell_snapshots/1.sh", "export K=anything\n");
  Write(root + std::string("/dir-") + kValue + "/f", "z\n");
  Write(root + "/hard-src", kValue);
  fs::create_directories(out);
  ASSERT_EQ(::link((root + "/hard-src").c_str(), (out + "/hard").c_str()), 0);
  // Links out of the tree: a file, and a directory standing where a cache dir is expected.
  Write(out + "/secret.txt", kValue);
  Write(out + "/shell_snapshots/keep.sh", kValue);
  fs::create_symlink(out + "/secret.txt", root + "/link.txt");
  fs::create_directories(root + "/.claude");
  fs::create_symlink(out + "/shell_snapshots", root + "/.claude/shell-snapshots");
  fs::create_symlink(out, root + "/linkdir");

  ScrubStats st = ScrubTree(root, {kValue, "abc"}, kSecretCacheDirs);
  EXPECT_TRUE(st.errors.empty()) << st.errors.front();
  EXPECT_EQ(Slurp(root + "/a.txt"), "x [REDACTED] y\n");
  EXPECT_EQ(Slurp(root + "/clean.txt"), "nothing\n");
  EXPECT_FALSE(fs::exists(root + "/.codex/shell_snapshots"));
  EXPECT_TRUE(fs::exists(root + "/.codex"));
  EXPECT_EQ(Slurp(root + "/dir-[REDACTED]/f"), "z\n");
  EXPECT_FALSE(fs::exists(root + "/hard-src"));  // another name of it is outside
  // Nothing outside was touched; the links themselves are gone or left as links.
  EXPECT_EQ(Slurp(out + "/secret.txt"), kValue);
  EXPECT_EQ(Slurp(out + "/shell_snapshots/keep.sh"), kValue);
  EXPECT_FALSE(fs::exists(fs::symlink_status(root + "/.claude/shell-snapshots")));
  EXPECT_TRUE(fs::is_symlink(root + "/link.txt"));
  EXPECT_TRUE(fs::is_symlink(root + "/linkdir"));
  EXPECT_EQ(st.files_redacted, 1);
  EXPECT_EQ(st.entries_renamed, 1);
}

TEST(ScrubTree, Secrets_AtRest_AMissingRootIsNothingToDo) {
  TempDir tmp;
  ScrubStats st = ScrubTree(tmp.path() + "/none", {kValue}, kSecretCacheDirs);
  EXPECT_TRUE(st.errors.empty());
  EXPECT_EQ(st.files_redacted + st.entries_removed + st.entries_renamed, 0);
}

}  // namespace
}  // namespace outpost::shim
