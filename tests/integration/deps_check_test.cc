// The dependency check of `make test` (scripts/check-deps.sh over scripts/deps.rules) on this
// tree, and on copies of it with one violation planted: it must fail, naming the file, the line
// and the include.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "testing/temp_dir.h"

namespace outpost::testing {
namespace {

namespace fs = std::filesystem;

const std::string kSource = OUTPOST_SOURCE_DIR;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Outcome Check(const std::string& args) {
  const std::string cmd = kSource + "/scripts/check-deps.sh " + args + " 2>&1";
  Outcome out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "cannot run " << cmd;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.output.append(buf, n);
  const int status = ::pclose(p);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// A copy of src/ (and the rules) in a temp dir, for planting violations.
class PlantedTree : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::copy(kSource + "/src", root_ / "src", fs::copy_options::recursive);
    fs::create_directories(root_ / "scripts");
    fs::copy_file(kSource + "/scripts/deps.rules", root_ / "scripts/deps.rules");
  }
  // Inserts `line` as line 2 of src/`rel` (creating the file when it does not exist).
  void Plant(const std::string& rel, const std::string& line) {
    const fs::path path = root_ / "src" / rel;
    std::string text;
    if (fs::exists(path)) {
      std::ifstream in(path);
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    } else {
      fs::create_directories(path.parent_path());
      text = "// planted\n";
    }
    const std::size_t eol = text.find('\n');
    ASSERT_NE(eol, std::string::npos) << rel;
    text.insert(eol + 1, line + "\n");
    std::ofstream(path, std::ios::trunc) << text;
  }

  Outcome CheckCopy() { return Check("--root " + root_.string()); }

  outpost::testing::TempDir tmp_{"outpost-deps"};
  fs::path root_ = tmp_.path();
};

TEST(DepsCheck, ThisTreePasses) {
  const Outcome out = Check("");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("check-deps: ok"), std::string::npos) << out.output;
}

TEST(DepsCheck, GraphListsTheComponentArrows) {
  const Outcome out = Check("--graph");
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("# production files"), std::string::npos) << out.output;
  EXPECT_NE(out.output.find("# test files"), std::string::npos) << out.output;
  // The model is a leaf: its line in the production graph names common only.
  const std::size_t model = out.output.find("\nmodel ");
  ASSERT_NE(model, std::string::npos) << out.output;
  const std::string line =
      out.output.substr(model + 1, out.output.find('\n', model + 1) - model - 1);
  EXPECT_NE(line.find("-> common("), std::string::npos) << line;
  EXPECT_EQ(line.find(") "), std::string::npos) << "model depends on more than common: " << line;
}

TEST_F(PlantedTree, TheUntouchedCopyPasses) {
  const Outcome out = CheckCopy();
  EXPECT_EQ(out.exit_code, 0) << out.output;
}

TEST_F(PlantedTree, RunnerIncludingTheStoreFailsNamingFileLineAndInclude) {
  Plant("runner/runner.h", "#include \"store/run_store.h\"");
  const Outcome out = CheckCopy();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("src/runner/runner.h:2: #include \"store/run_store.h\" — runner may "
                            "not depend on store (never: "),
            std::string::npos)
      << out.output;
  EXPECT_NE(out.output.find("1 violation(s)"), std::string::npos) << out.output;
}

TEST_F(PlantedTree, EveryOffendingIncludeIsListed) {
  Plant("core/progress.cc", "#include \"api/envelope.h\"");        // a never
  Plant("metrics/metrics.h", "#include \"config/options.h\"");     // not in the layer table
  Plant("agents/agent.h", "#include \"testing/temp_dir.h\"");      // test-only, production file
  Plant("runner/shim/shim.cc", "#include \"store/run_store.h\"");  // a subfolder
  const Outcome out = CheckCopy();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  for (const char* want :
       {"src/core/progress.cc:2: #include \"api/envelope.h\" — core may not depend on api (never:",
        "src/metrics/metrics.h:2: #include \"config/options.h\" — metrics may not depend on config "
        "(layers: metrics may include only common)",
        "src/agents/agent.h:2: #include \"testing/temp_dir.h\" — agents may not depend on testing "
        "(testing is test-only",
        "src/runner/shim/shim.cc:2: #include \"store/run_store.h\" — runner may not depend on "
        "store",
        "4 violation(s)"}) {
    EXPECT_NE(out.output.find(want), std::string::npos) << want << "\n" << out.output;
  }
}

TEST_F(PlantedTree, TestFilesMayUseTheTestKitButNotTheNevers) {
  Plant("core/progress_test.cc", "#include \"testing/temp_dir.h\"");
  EXPECT_EQ(CheckCopy().exit_code, 0);
  Plant("core/progress_test.cc", "#include \"web/web_routes.h\"");
  const Outcome out = CheckCopy();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("src/core/progress_test.cc:2: #include \"web/web_routes.h\" — core "
                            "may not depend on web"),
            std::string::npos)
      << out.output;
}

TEST_F(PlantedTree, AnExceptionCoversItsOneIncludeAndFailsOnceStale) {
  // An exception lets its one file keep an include a rule forbids, while it is removed...
  Plant("runner/run_dir.cc", "#include \"store/run_store.h\"");
  std::ofstream(root_ / "scripts/deps.rules", std::ios::app)
      << "exception src/runner/run_dir.cc: store  # planted: being removed\n";
  Outcome out = CheckCopy();
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("1 temporary exception(s)"), std::string::npos) << out.output;
  // ...not another file's...
  Plant("runner/proc.cc", "#include \"store/run_store.h\"");
  out = CheckCopy();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("src/runner/proc.cc:2: #include \"store/run_store.h\""),
            std::string::npos)
      << out.output;
  // ...and fails as stale once the include is gone.
  for (const char* rel : {"src/runner/run_dir.cc", "src/runner/proc.cc"}) {
    const fs::path path = root_ / rel;
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    const std::string line = "#include \"store/run_store.h\"\n";
    ASSERT_NE(text.find(line), std::string::npos) << rel;
    text.erase(text.find(line), line.size());
    std::ofstream(path, std::ios::trunc) << text;
  }
  out = CheckCopy();
  EXPECT_EQ(out.exit_code, 1) << out.output;
  EXPECT_NE(out.output.find("stale exception: src/runner/run_dir.cc no longer includes store"),
            std::string::npos)
      << out.output;
}

TEST_F(PlantedTree, ARulesFileContradictingANeverIsAnError) {
  std::ofstream(root_ / "scripts/deps.rules", std::ios::app) << "allow runner: store\n";
  const Outcome out = CheckCopy();
  EXPECT_EQ(out.exit_code, 2) << out.output;
  EXPECT_NE(out.output.find("allow runner: store contradicts"), std::string::npos) << out.output;
}

}  // namespace
}  // namespace outpost::testing
