// Docs match the binary: every `outpost …` flag the README names is a flag of the command it is
// attributed to, as that command's --help says, and every OUTPOST_* variable it names is one the
// config loader reads (recorded from the loader itself: EnvironmentVariablesRead) or one a
// --help page names. The reader (readme_check.h) is checked first on fixtures, so that a README
// test that finds nothing cannot pass by reading nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/options.h"
#include "tests/integration/readme_check.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace {

// What a small binary would say: `serve` and `admin key create`.
BinaryDocs FixtureBinary() {
  BinaryDocs b;
  b.flags[{"serve"}] = {"-h", "--help", "--listen", "--store"};
  b.flags[{"admin"}] = {"-h", "--help"};
  b.flags[{"admin", "key"}] = {"-h", "--help"};
  b.flags[{"admin", "key", "create"}] = {"-h", "--help", "--tenant"};
  b.flags[{"validate"}] = {"-h", "--help", "--timeout"};
  b.variables = {"OUTPOST_LISTEN", "OUTPOST_SECRET_", "OUTPOST_QUOTA_MAX_RUNS_PER_DAY"};
  return b;
}

std::set<CommandPath> Paths(const BinaryDocs& b) {
  std::set<CommandPath> out;
  for (const auto& [path, flags] : b.flags) out.insert(path);
  return out;
}

std::vector<std::string> Check(const std::string& markdown) {
  const BinaryDocs b = FixtureBinary();
  return CheckReadme(ExtractReadme(markdown, Paths(b)), b);
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + "\n";
  return s;
}

TEST(ReadmeCheck, AMatchingReadmePasses) {
  const std::string md =
      "# T\n\n`outpost serve [--listen HOST:PORT] [--store URL]` (`OUTPOST_LISTEN`).\n\n"
      "```sh\nKEY=$(outpost admin key create --tenant $T)   # --bogus in a comment\n"
      "curl -H \"X: $OUTPOST_V2_ENDPOINT\" --fail http://x | outpost validate --timeout 5s\n```\n\n"
      "- `--store sqlite:///x` is read by `outpost serve`; secrets: `OUTPOST_SECRET_<NAME>`,\n"
      "  quotas `OUTPOST_QUOTA_*`.\n\nThe sandbox (`bwrap --die-with-parent`).\n";
  const ReadmeRefs refs = ExtractReadme(md, Paths(FixtureBinary()));
  EXPECT_EQ(refs.flags.size(), 5u);  // --listen, --store, --tenant, --timeout, --store
  EXPECT_EQ(refs.variables.size(), 3u);
  EXPECT_TRUE(Check(md).empty()) << Joined(Check(md));
}

// The check fails on a planted undocumented flag, on a flag given to the wrong command, and on
// a variable nothing reads, naming each with its line.
TEST(ReadmeCheck, PlantedUndocumentedFlagAndVariableAreReported) {
  auto problems = Check("x\n\n`outpost serve --listen X --artifacts file:///d`\n");
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_EQ(problems[0], "README.md:3: --artifacts is not a flag of `outpost serve` (per --help)");
  // Prose attributes a flag to the command its paragraph names.
  problems = Check("`outpost validate` waits `--listen` long.\n");
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find("--listen is not a flag of `outpost validate`"), std::string::npos);
  // A paragraph naming no command: the flag must exist somewhere.
  problems = Check("Use `--bogus-flag 3`.\n");
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find("--bogus-flag is not a flag of any outpost command"),
            std::string::npos);
  problems = Check("```\noutpost admin key create --tenant T --scopes all\n```\n");
  ASSERT_EQ(problems.size(), 1u) << Joined(problems);
  EXPECT_NE(problems[0].find("README.md:2: --scopes"), std::string::npos) << problems[0];
  problems = Check("Set `OUTPOST_LISTEN` or `OUTPOST_LISTEN_PORT`; `OUTPOST_BOGUS_*` too.\n");
  ASSERT_EQ(problems.size(), 2u) << Joined(problems);
  EXPECT_EQ(problems[0],
            "README.md:1: OUTPOST_LISTEN_PORT is no variable the config loader reads or any "
            "--help names");
  EXPECT_NE(problems[1].find("OUTPOST_BOGUS_… is no family"), std::string::npos);
}

TEST(ReadmeCheck, HelpPagesGiveFlagsAndSubcommands) {
  const std::string help =
      "Run it\nUsage: outpost serve [OPTIONS]\n\nOptions:\n  -h,--help     Print this help\n"
      "  --listen TEXT (Env:OUTPOST_LISTEN)   HOST:PORT, see --not-this\n\nTests only:\n"
      "  --enable-fault-injection\n\nSubcommands:\n  key           API keys\n"
      "  tenant        Tenants\n";
  EXPECT_EQ(FlagsInHelp(help),
            (std::set<std::string>{"-h", "--help", "--listen", "--enable-fault-injection"}));
  EXPECT_EQ(SubcommandsInHelp(help), (std::vector<std::string>{"key", "tenant"}));
  EXPECT_EQ(VariablesIn(help), (std::set<std::string>{"OUTPOST_LISTEN"}));
}

// ---- The real README against the real binary

std::string Help(const CommandPath& path) {
  std::string cmd = OutpostBin();
  for (const auto& w : path) cmd += " " + w;
  cmd += " --help 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = p ? ::pclose(p) : -1;
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd << "\n" << out;
  return out;
}

// Every command's --help, walked from `outpost --help`.
BinaryDocs RealBinary(std::string* all_help) {
  BinaryDocs b;
  std::vector<CommandPath> todo{{}};
  while (!todo.empty()) {
    CommandPath path = todo.back();
    todo.pop_back();
    const std::string help = Help(path);
    *all_help += help;
    b.flags[path] = FlagsInHelp(help);  // the root's too: the global --context, --utc
    for (const std::string& sub : SubcommandsInHelp(help)) {
      CommandPath next = path;
      next.push_back(sub);
      todo.push_back(std::move(next));
    }
  }
  b.variables = VariablesIn(*all_help);
  for (const std::string& v : EnvironmentVariablesRead()) b.variables.insert(v);
  return b;
}

TEST(Readme, EveryFlagAndVariableItNamesIsTheBinarys) {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found under " << OUTPOST_SOURCE_DIR;
  std::stringstream readme;
  readme << in.rdbuf();
  std::string all_help;
  const BinaryDocs binary = RealBinary(&all_help);
  ASSERT_TRUE(binary.flags.count({"serve"})) << all_help;
  ASSERT_TRUE((binary.flags.count({"admin", "key", "create"}))) << all_help;
  const ReadmeRefs refs = ExtractReadme(readme.str(), Paths(binary));
  // The reader found what the README is full of (not nothing, which would pass).
  EXPECT_GT(refs.flags.size(), 60u);
  EXPECT_GT(refs.variables.size(), 25u);
  const auto problems = CheckReadme(refs, binary);
  EXPECT_TRUE(problems.empty()) << Joined(problems);
  // What was checked, for a reader of the test output: readme-refs.txt in the test's directory.
  std::ofstream list("readme-refs.txt");
  for (const DocFlag& f : refs.flags) {
    list << "flag " << f.flag << " line " << f.line << " on";
    if (f.owners.empty()) list << " (any command)";
    for (const CommandPath& owner : f.owners) {
      list << " `outpost";
      for (const std::string& w : owner) list << " " << w;
      list << "`";
    }
    list << "\n";
  }
  for (const DocVariable& v : refs.variables) {
    list << "variable " << v.name << (v.prefix ? " (prefix)" : "") << " line " << v.line << "\n";
  }
}

// The loader's variables are recorded from the loader, and `outpost serve --help` lists each.
TEST(Readme, ServeHelpListsEveryVariableTheConfigLoaderReads) {
  const std::set<std::string> read = EnvironmentVariablesRead();
  for (const char* v : {"OUTPOST_CONFIG", "OUTPOST_LISTEN", "OUTPOST_ARTIFACTS",
                        "OUTPOST_MAX_HEADER_BYTES", "OUTPOST_INSECURE", "OUTPOST_METRICS_TOKEN",
                        "OUTPOST_QUOTA_MAX_CONCURRENT_RUNS", "OUTPOST_AUDIT_RETENTION_DAYS"}) {
    EXPECT_TRUE(read.count(v)) << v;
  }
  const std::set<std::string> listed = VariablesIn(Help({"serve"}));
  for (const std::string& v : read) EXPECT_TRUE(listed.count(v)) << v << " missing in serve --help";
}

}  // namespace
}  // namespace outpost::testing
