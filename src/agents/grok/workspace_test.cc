#include "agents/grok/workspace.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::agents::grok {
namespace {

using outpost::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = tmp_.path();
    root_ = base_ / "ws";
    outside_ = base_ / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
  }
  testing::TempDir tmp_{"grok-ws"};
  fs::path base_, root_, outside_;
};

TEST_F(WorkspaceTest, WritesFilesCreatingParents) {
  auto ws = Workspace::Open(root_);
  ASSERT_OK(ws);
  auto n = ws->WriteFile("a/b/c.txt", "hello\n");
  ASSERT_OK(n);
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(Slurp(root_ / "a/b/c.txt"), "hello\n");
  ASSERT_TRUE(ws->WriteFile("./a/b/c.txt", "x").ok());  // overwrite truncates
  EXPECT_EQ(Slurp(root_ / "a/b/c.txt"), "x");
}

TEST_F(WorkspaceTest, AbsoluteAndDotDotPathsAreRefused) {
  auto ws = Workspace::Open(root_);
  for (const char* bad : {"/etc/x", "../escape.txt", "a/../../escape.txt", "", "."}) {
    auto n = ws->WriteFile(bad, "x");
    ASSERT_THAT(n, StatusIs(Code::kPermissionDenied)) << bad;
  }
  EXPECT_FALSE(fs::exists(base_ / "escape.txt"));
}

TEST_F(WorkspaceTest, SymlinkedParentOutsideIsRefusedAndNothingWritten) {
  fs::create_directory_symlink(outside_, root_ / "link");
  auto ws = Workspace::Open(root_);
  auto n = ws->WriteFile("link/evil", "x");
  ASSERT_THAT(n, StatusIs(Code::kPermissionDenied, HasSubstr("outside the workspace")));
  EXPECT_TRUE(fs::is_empty(outside_));
}

TEST_F(WorkspaceTest, SymlinkedParentInsideIsRefusedToo) {
  fs::create_directories(root_ / "real");
  fs::create_directory_symlink(root_ / "real", root_ / "alias");
  auto ws = Workspace::Open(root_);
  auto n = ws->WriteFile("alias/f", "x");
  ASSERT_THAT(n, StatusIs(Code::kPermissionDenied));
  EXPECT_TRUE(fs::is_empty(root_ / "real"));
}

TEST_F(WorkspaceTest, FinalSymlinkIsNeverWrittenThrough) {
  std::ofstream(outside_ / "target") << "original";
  fs::create_symlink(outside_ / "target", root_ / "file");
  fs::create_symlink(outside_ / "missing", root_ / "dangling");
  auto ws = Workspace::Open(root_);
  EXPECT_THAT(ws->WriteFile("file", "evil"), StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(ws->WriteFile("dangling", "evil"), StatusIs(Code::kPermissionDenied));
  EXPECT_EQ(Slurp(outside_ / "target"), "original");
  EXPECT_FALSE(fs::exists(outside_ / "missing"));
}

TEST_F(WorkspaceTest, HardLinkIsRefused) {
  std::ofstream(outside_ / "target") << "original";
  ASSERT_EQ(::link((outside_ / "target").c_str(), (root_ / "hl").c_str()), 0);
  auto ws = Workspace::Open(root_);
  EXPECT_THAT(ws->WriteFile("hl", "evil"), StatusIs(Code::kPermissionDenied));
  EXPECT_EQ(Slurp(outside_ / "target"), "original");
}

TEST_F(WorkspaceTest, WorkspaceReachedThroughASymlinkStillWorks) {
  fs::create_directory_symlink(root_, base_ / "wslink");
  auto ws = Workspace::Open(base_ / "wslink");
  ASSERT_OK(ws);
  EXPECT_EQ(ws->root(), fs::canonical(root_).string());
  ASSERT_TRUE(ws->WriteFile("f", "x").ok());
  EXPECT_EQ(Slurp(root_ / "f"), "x");
}

}  // namespace
}  // namespace outpost::agents::grok
