#include "cli/cli_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>

#include "cli/context_commands.h"
#include "cli/session.h"
#include "testing/temp_dir.h"

namespace outpost::cli {
namespace {

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(CliConfigPath, RespectsXdgConfigHomeThenHome) {
  ::setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  EXPECT_EQ(*CliConfigPath(), "/x/cfg/outpost/config.toml");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(*CliConfigPath(), "/home/u/.config/outpost/config.toml");
}

TEST(CliConfig, SavesWith0600In0700AndReadsBack) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cfg/outpost/config.toml";
  CliConfig c;
  c.current = "prod";
  c.contexts["prod"] = {"https://outpost.example.com", "otp_abc\"quoted"};
  c.contexts["local"] = {"http://127.0.0.1:8080", ""};
  ASSERT_TRUE(SaveCliConfig(path, c).ok());
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(dir.path() + "/cfg/outpost"), 0700u);
  auto back = LoadCliConfig(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->current, "prod");
  EXPECT_EQ(back->contexts, c.contexts);
}

TEST(CliConfig, MissingFileIsEmptyAndAReadableOneIsRefused) {
  testing::TempDir dir;
  auto none = LoadCliConfig(dir.path() + "/nope.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->contexts.empty());
  const std::string path = dir.path() + "/config.toml";
  ASSERT_TRUE(SaveCliConfig(path, CliConfig{"", {{"a", {"http://h:1", "k"}}}}).ok());
  ::chmod(path.c_str(), 0644);
  auto refused = LoadCliConfig(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("chmod 600"), std::string::npos);
}

TEST(CliConfig, BadFileNamesTheFileAndTheKey) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/config.toml";
  for (const char* text :
       {"current-context = 3\n", "[contexts.a]\nendpoint = \"x\"\ncolour = \"r\"\n",
        "[contexts.a]\napi_key = \"k\"\n", "nonsense = \n"}) {
    { std::ofstream(path) << text; }
    ::chmod(path.c_str(), 0600);
    auto c = LoadCliConfig(path);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << text;
    EXPECT_NE(c.status().message().find(path), std::string::npos) << c.status().message();
  }
}

TEST(CheckContextName, LettersDigitsDotsDashes) {
  EXPECT_TRUE(CheckContextName("prod-eu.1_a").ok());
  EXPECT_FALSE(CheckContextName("").ok());
  EXPECT_FALSE(CheckContextName("a b").ok());
  EXPECT_FALSE(CheckContextName("a/../b").ok());
  EXPECT_FALSE(CheckContextName(std::string(65, 'a')).ok());
}

TEST(ClosestWord, SuggestsNearCommandsOnly) {
  const std::vector<std::string> commands = {"runs", "logs", "status", "dispatch", "rerun"};
  EXPECT_EQ(ClosestWord("runz", commands), "runs");
  EXPECT_EQ(ClosestWord("dispach", commands), "dispatch");
  EXPECT_EQ(ClosestWord("stauts", commands), "status");
  EXPECT_EQ(ClosestWord("xyzzy", commands), "");
}

TEST(Colour, OnlyOnATerminalWithoutNoColor) {
  ::unsetenv("NO_COLOR");
  ::setenv("TERM", "xterm", 1);
  EXPECT_TRUE(ColourWanted(true));
  EXPECT_FALSE(ColourWanted(false));
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(ColourWanted(true));
  ::setenv("NO_COLOR", "", 1);
  EXPECT_TRUE(ColourWanted(true));
  ::setenv("TERM", "dumb", 1);
  EXPECT_FALSE(ColourWanted(true));
  ::unsetenv("NO_COLOR");
  EXPECT_EQ(Paint("ok", "32", true), "\x1b[32mok\x1b[0m");
  EXPECT_EQ(Paint("ok", "32", false), "ok");
}

TEST(ColourDiff, AddedRemovedHunksAndHeaders) {
  EXPECT_EQ(ColourDiff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n same\n"),
            "\x1b[1m--- a/x\x1b[0m\n\x1b[1m+++ b/x\x1b[0m\n\x1b[36m@@ -1 +1 @@\x1b[0m\n"
            "\x1b[31m-old\x1b[0m\n\x1b[32m+new\x1b[0m\n same\n");
}

TEST(CompletionScript, ListsNestedCommandsAndFlags) {
  CLI::App app{"outpost"};
  auto* admin = app.add_subcommand("admin", "a");
  auto* key = admin->add_subcommand("key", "k");
  key->add_subcommand("create", "c")->add_option("--tenant", "t");
  const std::string bash = CompletionScript(app, "bash");
  EXPECT_NE(bash.find("\"admin key\") echo \"create\""), std::string::npos) << bash;
  EXPECT_NE(bash.find("--tenant"), std::string::npos);
  EXPECT_NE(bash.find("complete -F _outpost outpost"), std::string::npos);
  const std::string fish = CompletionScript(app, "fish");
  EXPECT_NE(fish.find("__fish_seen_subcommand_from create' -l tenant"), std::string::npos) << fish;
}

TEST(RunJq, FiltersAndReportsErrors) {
  auto out = RunJq(".items[] | select(.status == \"FAILED\") | .runId",
                   R"({"items":[{"runId":"A","status":"FAILED"},{"runId":"B","status":"OK"}]})");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "A\n");
  auto bad = RunJq(".items[", "{}");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace outpost::cli
