#include "workspace/context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/time_util.h"
#include "workspace/test_git.h"

namespace outpost::workspace {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Write;

WallTime Day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return WallTime(sys_days(year_month_day{year{y}, month{m}, day{d}}));
}

std::string Lines(const std::string& prefix, int n, int width = 60) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += prefix + std::to_string(i) + " " + std::string(width, 'x') + "\n";
  return out;
}

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = testing::TempDir();
    Write(repo_ + "/README.md", "# Widgets\nPurpose: make widgets\nType: library\nnoise\n");
    Write(repo_ + "/docs/ANCHORS.md", "- never break the API\n");
    Write(repo_ + "/docs/PROFILE.md", "Operator prefers small commits\n");
    Write(repo_ + "/session-journals/2026-01-01-old.md", "# old journal\n");
    Write(repo_ + "/session-journals/2026-11-27-latest.md", "# Latest\nStatus: green\n");
    Write(repo_ + "/docs/MASTER_ROADMAP.md", "# Roadmap\nPhase 2: gadgets\nunrelated\n");
  }
  void TearDown() override { std::filesystem::remove_all(repo_); }
  Context Assemble(std::string_view level) {
    return AssembleContext(repo_, "widgets", level, Day(2026, 11, 28), "run1");
  }
  std::string repo_;
};

TEST_F(ContextTest, LevelsChooseSectionsInOrder) {
  EXPECT_THAT(Assemble("minimal").sections, ElementsAre("SOUL", "JOURNAL"));
  EXPECT_THAT(Assemble("standard").sections, ElementsAre("SOUL", "ANCHORS", "PROFILE", "JOURNAL"));
  Context full = Assemble("full");
  EXPECT_THAT(full.sections, ElementsAre("SOUL", "ANCHORS", "PROFILE", "JOURNAL", "ROADMAP"));
  EXPECT_THAT(full.text, HasSubstr("Project: widgets\nPurpose: make widgets\nType: library\n"));
  EXPECT_THAT(full.text, Not(HasSubstr("noise")));
  EXPECT_THAT(full.text, HasSubstr("Status: green"));  // the newest journal
  EXPECT_THAT(full.text, Not(HasSubstr("old journal")));
  EXPECT_THAT(full.text, HasSubstr("Phase 2: gadgets"));
  EXPECT_THAT(full.text, Not(HasSubstr("unrelated")));
  EXPECT_THAT(full.text, HasSubstr("injection_id=\"run1\""));
}

TEST_F(ContextTest, BudgetsAre600_1200_1800Tokens) {
  EXPECT_EQ(BudgetFor("minimal"), 600);
  EXPECT_EQ(BudgetFor("standard"), 1200);
  EXPECT_EQ(BudgetFor("full"), 1800);
}

TEST_F(ContextTest, OverBudgetDropsRoadmapThenProfileThenSummarizesJournal) {
  Write(repo_ + "/docs/MASTER_ROADMAP.md", Lines("# Phase ", 15, 100));             // ~400 tokens
  Write(repo_ + "/docs/PROFILE.md", Lines("profile ", 20, 60));                     // ~330 tokens
  Write(repo_ + "/session-journals/2026-11-27-latest.md", Lines("did ", 50, 150));  // ~1950
  Context full = Assemble("full");
  EXPECT_LE(full.tokens, 1800);
  EXPECT_THAT(full.dropped, ElementsAre("ROADMAP", "PROFILE"));
  EXPECT_THAT(full.sections, ElementsAre("SOUL", "ANCHORS", "JOURNAL"));
  EXPECT_THAT(full.text, HasSubstr("...[summarized for token budget]..."));
  Context minimal = Assemble("minimal");
  EXPECT_LE(minimal.tokens, 600);
  EXPECT_THAT(minimal.text, HasSubstr("Purpose: make widgets"));
}

TEST_F(ContextTest, HugeSoulIsCutToTheBudgetButNeverDropped) {
  Write(repo_ + "/README.md", Lines("Purpose: ", 10, 400));
  Context c = Assemble("minimal");
  EXPECT_LE(c.tokens, 600);
  EXPECT_EQ(c.sections.front(), "SOUL");
  EXPECT_THAT(c.dropped, ElementsAre("JOURNAL"));
}

TEST_F(ContextTest, OldJournalIsSummarized) {
  Write(repo_ + "/session-journals/2026-11-27-latest.md", "");
  std::filesystem::remove(repo_ + "/session-journals/2026-11-27-latest.md");
  Write(repo_ + "/session-journals/2026-10-01-x.md", Lines("line ", 40));
  EXPECT_THAT(Assemble("standard").text, HasSubstr("...[summarized for token budget]..."));
}

TEST_F(ContextTest, SecretsAreScrubbedBeforeInjection) {
  Write(repo_ + "/docs/ANCHORS.md",
        "token ghp_abcdefghijklmnopqrstuvwxyz0123456789\nkey AKIAABCDEFGHIJKLMNOP\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n");
  Context c = Assemble("standard");
  EXPECT_THAT(c.text, Not(HasSubstr("ghp_abcdef")));
  EXPECT_THAT(c.text, Not(HasSubstr("AKIAABCDEFGHIJKLMNOP")));
  EXPECT_THAT(c.text, Not(HasSubstr("MIIB")));
  EXPECT_THAT(c.text, HasSubstr("[REDACTED]"));
  EXPECT_GE(c.redactions, 2);
}

TEST_F(ContextTest, FilesOutsideTheCheckoutAreNotRead) {
  const std::string outside = testing::TempDir();
  Write(outside + "/ANCHORS.md", "host secret anchor\n");
  std::filesystem::remove(repo_ + "/docs/ANCHORS.md");
  std::filesystem::rename(repo_ + "/docs", repo_ + "/real-docs");
  std::filesystem::create_directory_symlink(outside, repo_ + "/docs");
  Context c = Assemble("standard");
  EXPECT_THAT(c.text, Not(HasSubstr("host secret anchor")));
  std::filesystem::remove_all(outside);
}

// Audit F17: a session-journals link to a host directory listed that directory as root and put
// the newest *.md name there into context.md (an artifact). Links are not followed at all now.
TEST_F(ContextTest, F17_ALinkedJournalDirectoryLeaksNoHostFileName) {
  const std::string outside = testing::TempDir();
  Write(outside + "/2026-11-30-host-only-name.md", "host journal\n");
  std::filesystem::remove_all(repo_ + "/session-journals");
  std::filesystem::create_directory_symlink(outside, repo_ + "/session-journals");
  Context linked_dir = Assemble("full");
  EXPECT_THAT(linked_dir.text, Not(HasSubstr("host-only-name")));
  EXPECT_THAT(linked_dir.text, Not(HasSubstr("host journal")));
  // A link inside a real journal directory is not followed either.
  std::filesystem::remove(repo_ + "/session-journals");
  std::filesystem::create_directory(repo_ + "/session-journals");
  std::filesystem::create_symlink(outside + "/2026-11-30-host-only-name.md",
                                  repo_ + "/session-journals/2026-12-01-link.md");
  Context linked_file = Assemble("full");
  EXPECT_THAT(linked_file.text, Not(HasSubstr("2026-12-01-link")));
  EXPECT_THAT(linked_file.text, Not(HasSubstr("host journal")));
  std::filesystem::remove_all(outside);
}

TEST(EnrichTask, PrependsTheContextAndWrapsTheTask) {
  EXPECT_EQ(EnrichTask("<ctx/>\n", "do it"), "<ctx/>\n\n\n<task>\ndo it\n</task>");
}

}  // namespace
}  // namespace outpost::workspace
