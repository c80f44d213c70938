#include "workspace/collect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "workspace/prepare.h"
#include "workspace/test_git.h"

namespace outpost::workspace {
namespace {

using ::testing::ElementsAre;
using testing::MakeRepo;
using testing::Read;
using testing::Sh;
using ::testing::UnorderedElementsAre;
using testing::Write;

class CollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::TempDir();
    origin_ = root_ + "/origin";
    MakeRepo(origin_);
    Sh("cd " + origin_ +
       " && printf 'build/\\n' > .gitignore && mkdir -p build && "
       "echo tracked > build/kept.txt && git add .gitignore && git add -f build/kept.txt && "
       "git commit -q -m ignore");
    ws_ = root_ + "/ws";
    run_dir_ = root_ + "/run";
    std::filesystem::create_directories(run_dir_);
    auto p = Prepare(
        git_, {origin_, std::nullopt, root_ + "/repos", ws_, std::nullopt, std::nullopt, {}, ""});
    ASSERT_TRUE(p.ok()) << p.status().message();
    prepared_ = *p;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  ChangeSet CollectOk() {
    auto c = Collect(git_, {ws_, prepared_.before_sha, run_dir_, prepared_.cache_dir, {}});
    EXPECT_TRUE(c.ok()) << c.status().message();
    EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/.collect"));
    return c.ok() ? *c : ChangeSet{};
  }
  // A fresh clone of the origin at the before commit, to apply results to.
  std::string CheckoutBefore() {
    const std::string dir = root_ + "/verify";
    Sh("git clone -q " + origin_ + " " + dir + " && git -C " + dir + " checkout -q " +
       prepared_.before_sha);
    return dir;
  }

  SpawnGitExec git_;
  std::string root_, origin_, ws_, run_dir_;
  Prepared prepared_;
};

TEST_F(CollectTest, UntouchedWorkspaceIsNone) {
  ChangeSet c = CollectOk();
  EXPECT_EQ(c.kind, "none");
  EXPECT_EQ(c.after_sha, prepared_.before_sha);
  EXPECT_TRUE(c.files_changed.empty());
  EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/diff.patch"));
  EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/changes.bundle"));
}

TEST_F(CollectTest, EditedAndNewFilesAreUncommittedAndThePatchApplies) {
  Write(ws_ + "/README.md", "hello\nworld\n");
  Write(ws_ + "/src/new.txt", "brand new\n");
  Write(ws_ + "/build/ignored.o", "not wanted\n");
  ChangeSet c = CollectOk();
  EXPECT_EQ(c.kind, "uncommitted");
  EXPECT_EQ(c.after_sha, prepared_.before_sha);
  EXPECT_THAT(c.files_changed, UnorderedElementsAre("README.md", "src/new.txt"));
  EXPECT_TRUE(c.patch);
  EXPECT_FALSE(c.bundle);
  const std::string dir = CheckoutBefore();
  Sh("git -C " + dir + " apply " + run_dir_ + "/diff.patch");
  EXPECT_EQ(Read(dir + "/README.md"), "hello\nworld\n");
  EXPECT_EQ(Read(dir + "/src/new.txt"), "brand new\n");
  // The agent's own index was not touched: the new file is still untracked there.
  EXPECT_EQ(Sh("git -C " + ws_ + " status --porcelain -- src"), "?? src/");
}

TEST_F(CollectTest, DeletedTrackedFileUnderAnIgnoredDirIsAChange) {
  std::filesystem::remove(ws_ + "/build/kept.txt");
  ChangeSet c = CollectOk();
  EXPECT_EQ(c.kind, "uncommitted");
  EXPECT_THAT(c.files_changed, ElementsAre("build/kept.txt"));
}

TEST_F(CollectTest, CommitsAreCommittedWithABundleAndUncommittedWorkOnTop) {
  Sh("cd " + ws_ +
     " && echo feature > feature.txt && git add feature.txt && "
     "git commit -q -m feature");
  const std::string head = Sh("git -C " + ws_ + " rev-parse HEAD");
  Write(ws_ + "/README.md", "hello\nafter the commit\n");
  ChangeSet c = CollectOk();
  EXPECT_EQ(c.kind, "committed");
  EXPECT_EQ(c.before_sha, prepared_.before_sha);
  EXPECT_EQ(c.after_sha, head);
  EXPECT_THAT(c.files_changed, UnorderedElementsAre("README.md", "feature.txt"));
  ASSERT_TRUE(c.bundle);
  const std::string dir = CheckoutBefore();
  Sh("git -C " + dir + " bundle verify -q " + run_dir_ + "/changes.bundle");
  Sh("git -C " + dir + " fetch -q " + run_dir_ + "/changes.bundle HEAD");
  EXPECT_EQ(Sh("git -C " + dir + " rev-parse FETCH_HEAD"), head);
  Sh("git -C " + dir + " apply " + run_dir_ + "/diff.patch");
  EXPECT_EQ(Read(dir + "/feature.txt"), "feature\n");
  EXPECT_EQ(Read(dir + "/README.md"), "hello\nafter the commit\n");
}

TEST_F(CollectTest, DiffStatCountsLinesPerFileAndBinaryFilesHaveNone) {
  Write(ws_ + "/README.md", "one\ntwo\nthree\n");
  Write(ws_ + "/blob.bin", std::string("\0\1\2\3", 4));
  ChangeSet c = CollectOk();
  std::map<std::string, FileStat> by_path;
  for (const FileStat& f : c.diff_stat) by_path[f.path] = f;
  ASSERT_EQ(by_path.size(), 2u);
  const std::string readme_before = Sh("git -C " + origin_ + " show HEAD:README.md | wc -l");
  EXPECT_EQ(by_path["README.md"].insertions, 3);
  EXPECT_EQ(by_path["README.md"].deletions, std::stoll(readme_before));
  EXPECT_EQ(by_path["blob.bin"].insertions, std::nullopt);
  EXPECT_EQ(by_path["blob.bin"].deletions, std::nullopt);
}

TEST_F(CollectTest, SecretsInThePatchAreRedactedAndTheBundleIsWithheld) {
  Sh("cd " + ws_ +
     " && echo 'token=sk-live-value-123456' > leak.txt && git add leak.txt && "
     "git commit -q -m leak");
  ChangeSet c = CollectOk();
  ASSERT_TRUE(c.bundle);
  ASSERT_TRUE(RedactPatch(run_dir_, {"sk-live-value-123456"}, c).ok());
  EXPECT_TRUE(c.redacted);
  EXPECT_FALSE(c.bundle);
  EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/changes.bundle"));
  const std::string patch = Read(run_dir_ + "/diff.patch");
  EXPECT_EQ(patch.find("sk-live-value-123456"), std::string::npos) << patch;
  EXPECT_NE(patch.find("+token=[REDACTED]"), std::string::npos) << patch;
}

TEST_F(CollectTest, APatchWithoutSecretsIsLeftAlone) {
  Write(ws_ + "/README.md", "plain\n");
  ChangeSet c = CollectOk();
  const std::string before = Read(run_dir_ + "/diff.patch");
  ASSERT_TRUE(RedactPatch(run_dir_, {"not-in-there-xyz"}, c).ok());
  EXPECT_FALSE(c.redacted);
  EXPECT_EQ(Read(run_dir_ + "/diff.patch"), before);
}

// F7: the bundle carries every commit of before..HEAD, not just the final diff. A secret that
// only an intermediate commit, a commit message or a file name holds keeps it out.
class F7Test : public CollectTest {
 protected:
  static constexpr char kSecret[] = "s3cr3tvalue";
  ChangeSet CollectWithSecrets(std::size_t max_scan = 0) {
    CollectRequest req{ws_, prepared_.before_sha, run_dir_, prepared_.cache_dir, {kSecret}};
    if (max_scan > 0) req.max_history_scan = max_scan;
    auto c = Collect(git_, req);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : ChangeSet{};
  }
  // Everything changes.bundle carries, as text ("" without one): its heads, and every object
  // it holds once fetched beside the before commit.
  std::string BundleText() {
    const std::string bundle = run_dir_ + "/changes.bundle";
    if (!std::filesystem::exists(bundle)) return "";
    const std::string dir = CheckoutBefore();
    return Sh("git bundle list-heads " + bundle + " && cd " + dir + " && git fetch -q " + bundle +
              " HEAD:refs/got && git log -p --text --format=raw --root -m " + prepared_.before_sha +
              "..refs/got && git for-each-ref");
  }
  void ExpectWithheld(const ChangeSet& c) {
    EXPECT_FALSE(c.bundle);
    EXPECT_TRUE(c.redacted);
    EXPECT_NE(c.redaction.find("history"), std::string::npos) << c.redaction;
    EXPECT_EQ(BundleText().find(kSecret), std::string::npos);
    EXPECT_EQ(Read(run_dir_ + "/diff.patch").find(kSecret), std::string::npos);
  }
};

TEST_F(F7Test, F7_ASecretCommittedThenRemoved) {
  Sh("cd " + ws_ + " && echo s3cr3tvalue > k && git add k && git commit -qm a && git rm -q k && " +
     "echo clean > other && git add other && git commit -qm b");
  ExpectWithheld(CollectWithSecrets());
}

TEST_F(F7Test, F7_ASecretOnlyInACommitMessage) {
  Sh("cd " + ws_ + " && echo clean > other && git add other && git commit -qm 'key s3cr3tvalue'");
  ExpectWithheld(CollectWithSecrets());
}

TEST_F(F7Test, F7_ACredentialShapeOnlyInTheAuthorEmail) {
  Sh("cd " + ws_ + " && echo clean > other && git add other && " +
     "GIT_AUTHOR_EMAIL=ghp_0123456789abcdefghijABCDEFGHIJ012345@x git commit -qm plain");
  ChangeSet c = CollectWithSecrets();
  EXPECT_FALSE(c.bundle);
  EXPECT_TRUE(c.redacted);
  EXPECT_EQ(BundleText().find("ghp_0123456789"), std::string::npos);
}

TEST_F(F7Test, F7_ASecretOnlyInAFileName) {
  Sh("cd " + ws_ + " && mkdir d && echo x > d/s3cr3tvalue && git add d && git commit -qm a && " +
     "git rm -rq d && echo clean > other && git add other && git commit -qm b");
  ExpectWithheld(CollectWithSecrets());
}

// Tags are the agent's refs; the bundle carries HEAD only, so a tag (its name, an annotated
// tag's message) never ships: the bundle is kept and holds no trace of it.
TEST_F(F7Test, F7_ASecretInATagNameIsNotInTheBundle) {
  Sh("cd " + ws_ + " && echo clean > other && git add other && git commit -qm plain && " +
     "git tag s3cr3tvalue && git tag -a -m s3cr3tvalue annotated");
  ChangeSet c = CollectWithSecrets();
  ASSERT_TRUE(c.bundle);
  EXPECT_FALSE(c.redacted);
  const std::string text = BundleText();
  EXPECT_NE(text.find("plain"), std::string::npos) << text;
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
}

TEST_F(F7Test, F7_ACleanHistoryKeepsItsBundle) {
  Sh("cd " + ws_ + " && echo one > other && git add other && git commit -qm a && " +
     "echo two > other && git commit -qam b");
  ChangeSet c = CollectWithSecrets();
  EXPECT_TRUE(c.bundle);
  EXPECT_FALSE(c.redacted);
  EXPECT_EQ(c.redaction, "");
  EXPECT_NE(BundleText().find("+two"), std::string::npos);
}

TEST_F(F7Test, F7_AHistoryLargerThanTheScanCapIsWithheld) {
  Sh("cd " + ws_ + " && head -c 200000 /dev/zero | tr '\\0' x > big && git add big && " +
     "git commit -qm a && git rm -q big && git commit -qm b");
  ChangeSet c = CollectWithSecrets(/*max_scan=*/100000);
  EXPECT_FALSE(c.bundle);
  EXPECT_TRUE(c.redacted);
  EXPECT_NE(c.redaction.find("larger than"), std::string::npos) << c.redaction;
  EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/changes.bundle"));
}

TEST_F(CollectTest, NothingTheAgentConfiguredIsExecuted) {
  const std::string marker = root_ + "/pwned";
  const std::string evil = "touch " + marker;
  Sh("cd " + ws_ + " && git config core.fsmonitor '" + evil + "' && git config filter.x.clean '" +
     evil + "' && git config diff.x.textconv '" + evil + "' && git config diff.external '" + evil +
     "' && printf '* filter=x diff=x\\n' > .gitattributes && printf '#!/bin/sh\\n" + evil +
     "\\n' > .git/hooks/post-index-change && chmod +x .git/hooks/post-index-change");
  Write(ws_ + "/README.md", "changed\n");
  ChangeSet c = CollectOk();
  EXPECT_EQ(c.kind, "uncommitted");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(CollectTest, ChangesJsonRoundTrips) {
  ChangeSet c;
  c.kind = "committed";
  c.before_sha = "a";
  c.after_sha = "b";
  c.files_changed = {"x", "y z"};
  c.patch = c.bundle = true;
  c.redacted = true;
  c.redaction = "a secret in the history";
  c.diff_stat = {{"x", 1, 2}, {"y z", std::nullopt, std::nullopt}};
  ASSERT_TRUE(WriteChanges(run_dir_ + "/changes.json", c).ok());
  auto back = ReadChanges(run_dir_ + "/changes.json");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->kind, "committed");
  EXPECT_EQ(back->after_sha, "b");
  EXPECT_THAT(back->files_changed, ElementsAre("x", "y z"));
  EXPECT_TRUE(back->bundle);
  EXPECT_TRUE(back->redacted);
  EXPECT_EQ(back->redaction, "a secret in the history");
  EXPECT_EQ(back->diff_stat, c.diff_stat);
  EXPECT_EQ(ReadChanges(run_dir_ + "/absent.json").status().code(), Code::kNotFound);
}

// F2 (security audit): a mirror of another repository on this host (another tenant's), which
// the agent tries to make the root-side collection read by each trick git would follow.
class CollectRedirectTest : public CollectTest {
 protected:
  void SetUp() override {
    CollectTest::SetUp();
    victim_ = root_ + "/victim";
    MakeRepo(victim_);
    Sh("cd " + victim_ + " && echo TOP-SECRET-F2 > secret.txt && git add secret.txt && " +
       "git commit -q -m secret");
    victim_tip_ = Sh("git -C " + victim_ + " rev-parse HEAD");
    mirror_ = root_ + "/repos/victim-mirror";
    Sh("git clone -q --mirror " + victim_ + " " + mirror_ + " && git -C " + mirror_ +
       " pack-refs --all && git -C " + mirror_ + " repack -adq");
  }
  // Nothing of the victim's is in what Collect wrote.
  void ExpectNothingOfTheVictims(const std::string& trick) {
    auto c = Collect(git_, {ws_, prepared_.before_sha, run_dir_, prepared_.cache_dir, {}});
    if (c.ok()) {
      EXPECT_NE(c->after_sha, victim_tip_) << trick;
      EXPECT_THAT(c->files_changed, ::testing::Not(::testing::Contains("secret.txt"))) << trick;
    }
    EXPECT_EQ(Read(run_dir_ + "/diff.patch").find("TOP-SECRET-F2"), std::string::npos) << trick;
    if (std::filesystem::exists(run_dir_ + "/changes.bundle")) {
      std::string heads = Sh("git bundle list-heads " + run_dir_ + "/changes.bundle || true");
      EXPECT_EQ(heads.find(victim_tip_), std::string::npos) << trick;
    }
    EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/.collect")) << trick;
  }

  std::string victim_, victim_tip_, mirror_;
};

TEST_F(CollectRedirectTest, F2_GitAsASymlinkToAnotherMirror) {
  Sh("rm -rf " + ws_ + "/.git && ln -s " + mirror_ + " " + ws_ + "/.git");
  ExpectNothingOfTheVictims(".git -> mirror");
}

TEST_F(CollectRedirectTest, F2_GitdirFileToAnotherMirror) {
  Sh("rm -rf " + ws_ + "/.git && echo 'gitdir: " + mirror_ + "' > " + ws_ + "/.git");
  ExpectNothingOfTheVictims("gitdir:");
}

TEST_F(CollectRedirectTest, F2_AlternatesAndAForgedHead) {
  Sh("echo " + mirror_ + "/objects >> " + ws_ + "/.git/objects/info/alternates && echo " +
     victim_tip_ + " > " + ws_ + "/.git/HEAD");
  ExpectNothingOfTheVictims("alternates + HEAD");
}

TEST_F(CollectRedirectTest, F2_CommondirToAnotherMirror) {
  Sh("echo " + mirror_ + " > " + ws_ + "/.git/commondir && rm -rf " + ws_ + "/.git/refs/heads " +
     ws_ + "/.git/packed-refs && mkdir " + ws_ + "/.git/refs/heads");
  ExpectNothingOfTheVictims("commondir");
}

TEST_F(CollectRedirectTest, F2_RefsAndObjectsAsSymlinks) {
  const std::string branch = Sh("git -C " + ws_ + " symbolic-ref --short HEAD");
  Sh("rm -rf " + ws_ + "/.git/refs/heads && ln -s " + mirror_ + "/refs/heads " + ws_ +
     "/.git/refs/heads && rm -f " + ws_ + "/.git/packed-refs && ln -s " + mirror_ +
     "/packed-refs " + ws_ + "/.git/packed-refs && mv " + ws_ + "/.git/objects " + ws_ +
     "/.git/objects.own && ln -s " + mirror_ + "/objects " + ws_ + "/.git/objects");
  ASSERT_FALSE(branch.empty());
  ExpectNothingOfTheVictims("refs, packed-refs, objects -> mirror");
}

TEST_F(CollectRedirectTest, F2_PackedRefsNamingTheVictimsTip) {
  const std::string branch = Sh("git -C " + ws_ + " symbolic-ref HEAD");
  Sh("rm -f " + ws_ + "/.git/" + branch + " && printf '%s %s\\n' " + victim_tip_ + " " + branch +
     " > " + ws_ + "/.git/packed-refs && ln -s " + mirror_ + "/objects/pack/" +
     Sh("ls " + mirror_ + "/objects/pack | grep pack$") + " " + ws_ + "/.git/objects/pack/" +
     "pack-0000000000000000000000000000000000000000.pack");
  ExpectNothingOfTheVictims("packed-refs + linked pack");
}

TEST_F(CollectRedirectTest, F2_TheAgentsOwnCommitsStillMakeABundle) {
  Sh("cd " + ws_ + " && echo mine > mine.txt && git add mine.txt && git commit -q -m mine");
  const std::string tip = Sh("git -C " + ws_ + " rev-parse HEAD");
  auto c = Collect(git_, {ws_, prepared_.before_sha, run_dir_, prepared_.cache_dir, {}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->after_sha, tip);
  EXPECT_TRUE(c->bundle);
  EXPECT_NE(Sh("git bundle list-heads " + run_dir_ + "/changes.bundle").find(tip),
            std::string::npos);
  // Packed too (git gc): the agent's packs are imported as well as its loose objects.
  Sh("cd " + ws_ + " && git gc -q && git pack-refs --all");
  std::filesystem::remove(run_dir_ + "/changes.bundle");
  auto packed = Collect(git_, {ws_, prepared_.before_sha, run_dir_, prepared_.cache_dir, {}});
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  EXPECT_EQ(packed->after_sha, tip);
  EXPECT_TRUE(packed->bundle);
}

}  // namespace
}  // namespace outpost::workspace
