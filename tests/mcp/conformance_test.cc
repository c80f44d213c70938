// A peer's test suite for MCP: the official conformance suite (npm
// @modelcontextprotocol/conformance, pinned in package.json) against POST /mcp of a real
// `outpost serve`, scenario by scenario, as tests/mcp/conformance_scenarios.txt expects.
//
// Why a table and not the suite's own --expected-failures baseline: the table also has to say
// which scenarios do not apply and why, and it is checked against `conformance list` both ways, so
// a suite upgrade that adds or renames a server scenario fails here until someone decides.
// A missing node or suite is a failure naming it, never a skip.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/server_test.h"
#include "tests/mcp/mcp_child.h"

namespace outpost::testing {
namespace {
using namespace std::chrono_literals;

const std::string kSource = OUTPOST_SOURCE_DIR;
const std::string kTable = kSource + "/tests/mcp/conformance_scenarios.txt";
const std::string kSuite =
    kSource + "/node_modules/@modelcontextprotocol/conformance/dist/index.js";

struct Entry {
  std::string scenario;
  std::string expectation;  // pass | expected-fail | n/a
  std::string reason;
  std::set<std::string> failing_checks;  // expected-fail: the checks that fail
  int line = 0;
};

void PrintTo(const Entry& e, std::ostream* os) {
  *os << e.scenario << " (" << e.expectation << ")";
}

std::string Trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string field;
  while (std::getline(in, field, sep)) out.push_back(Trim(field));
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

// The table's entries; `errors` gets one line per malformed entry.
std::vector<Entry> ReadTable(std::vector<std::string>* errors = nullptr) {
  std::vector<Entry> out;
  std::ifstream in(kTable);
  if (!in) {
    if (errors) errors->push_back("cannot read " + kTable);
    return out;
  }
  std::string line;
  std::set<std::string> seen;
  for (int n = 1; std::getline(in, line); ++n) {
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto bad = [&](const std::string& why) {
      if (errors) errors->push_back(kTable + ":" + std::to_string(n) + ": " + why);
    };
    std::vector<std::string> f = Split(line, '|');
    if (f.size() < 3 || f.size() > 4) {
      bad("want `scenario | expectation | reason [| failing checks]`");
      continue;
    }
    Entry e{f[0], f[1], f[2], {}, n};
    if (f.size() == 4) {
      for (const std::string& id : Split(f[3], ',')) {
        if (!id.empty()) e.failing_checks.insert(id);
      }
    }
    if (e.expectation != "pass" && e.expectation != "expected-fail" && e.expectation != "n/a") {
      bad("expectation must be pass, expected-fail or n/a, not `" + e.expectation + "`");
      continue;
    }
    if (e.expectation != "pass" && e.reason.empty()) bad(e.scenario + " needs a reason");
    if ((e.expectation == "expected-fail") != !e.failing_checks.empty()) {
      bad(e.scenario + ": the failing checks are named for expected-fail, and only there");
    }
    if (!seen.insert(e.scenario).second) bad(e.scenario + " is listed twice");
    out.push_back(std::move(e));
  }
  return out;
}

// The runnable entries, for the parameterised test.
std::vector<Entry> Runnable() {
  std::vector<Entry> out;
  for (Entry& e : ReadTable()) {
    if (e.expectation != "n/a") out.push_back(std::move(e));
  }
  return out;
}

// `node` on PATH, or "" when there is none.
std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/node";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// Why the suite cannot run ("" when it can): names what is missing.
std::string MissingTool() {
  if (FindNode().empty()) return "node is not on PATH (the MCP conformance suite needs Node 20+)";
  if (!std::filesystem::exists(kSuite)) {
    return "the MCP conformance suite is missing: no " + kSuite +
           " (make deps installs package.json's @modelcontextprotocol/conformance)";
  }
  return "";
}

struct Ran {
  std::optional<int> status;  // nullopt: still running after the timeout (killed)
  std::string out, err;
  std::string Output() const { return out + err; }
};

Ran RunSuite(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 120s) {
  std::vector<std::string> argv = {FindNode(), kSuite};
  argv.insert(argv.end(), args.begin(), args.end());
  Child c(argv, {{"NO_COLOR", "1"}});
  c.CloseStdin();
  Ran r;
  r.out = c.ReadRest(timeout);
  r.status = c.Wait(5s);
  r.err = c.Stderr();
  return r;
}

// The server scenarios of `conformance list`: the "  - name" lines after "Server scenarios".
std::set<std::string> ListedServerScenarios(const std::string& list_output) {
  std::set<std::string> out;
  std::stringstream in(list_output);
  std::string line;
  bool server = false;
  while (std::getline(in, line)) {
    if (line.find("scenarios") != std::string::npos && line.find("Server") == 0) {
      server = true;
    } else if (!line.empty() && line[0] != ' ') {
      server = false;
    } else if (server && Trim(line).rfind("- ", 0) == 0) {
      out.insert(Trim(Trim(line).substr(2)));
    }
  }
  return out;
}

TEST(McpConformance, TableIsValidAndNamesEveryServerScenarioOfTheSuite) {
  const std::string missing = MissingTool();
  ASSERT_TRUE(missing.empty()) << missing;
  std::vector<std::string> errors;
  std::vector<Entry> table = ReadTable(&errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  Ran list = RunSuite({"list"}, 60s);
  ASSERT_EQ(list.status, 0) << list.Output();
  std::set<std::string> listed = ListedServerScenarios(list.out);
  ASSERT_GE(listed.size(), 3u) << "no server scenarios in `conformance list`:\n" << list.Output();
  std::set<std::string> tabled;
  for (const Entry& e : table) tabled.insert(e.scenario);
  for (const std::string& s : listed) {
    EXPECT_TRUE(tabled.count(s)) << "`conformance list` has the server scenario " << s << ", which "
                                 << kTable << " does not list: add it (pass, expected-fail or n/a)";
  }
  for (const std::string& s : tabled) {
    EXPECT_TRUE(listed.count(s)) << kTable << " lists " << s
                                 << ", which `conformance list` no longer has: remove it";
  }
}

class McpConformanceScenario : public ServerTest, public ::testing::WithParamInterface<Entry> {
 protected:
  void SetUp() override {
    const std::string missing = MissingTool();
    ASSERT_TRUE(missing.empty()) << missing;
    ServerTest::SetUp();
    server_ = ServerProcess::Start(dir_);
  }
  // The suite's URL for the server: `localhost`, which dns-rebinding-protection requires.
  std::string Url() const {
    const std::string& a = server_->address();
    return "http://localhost" + a.substr(a.rfind(':')) + "/mcp";
  }
};

// Each check's status (SUCCESS, FAILURE, WARNING, INFO) by id, from the JSON array that
// `--verbose` prints between a line "[" and a line "]"; nullopt when there is none.
std::optional<std::map<std::string, std::string>> CheckStatuses(const std::string& out) {
  const auto begin = out.find("\n[\n");
  const auto end = begin == std::string::npos ? begin : out.find("\n]\n", begin);
  if (end == std::string::npos) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(out.substr(begin, end - begin + 2), ec);
  if (ec || !v.is_array()) return std::nullopt;
  std::map<std::string, std::string> statuses;
  for (const boost::json::value& c : v.get_array()) {
    if (!c.is_object()) return std::nullopt;
    statuses[Str(c.get_object(), "id")] = Str(c.get_object(), "status");
  }
  return statuses;
}

TEST_P(McpConformanceScenario, AsTheTableExpects) {
  const Entry& e = GetParam();
  Ran r = RunSuite({"server", "--url", Url(), "--scenario", e.scenario, "--verbose"});
  ASSERT_TRUE(r.status) << e.scenario << " did not finish in time:\n" << r.Output();
  // The suite exits 1 when a check failed; anything else (a crash, a bad option) is no verdict.
  ASSERT_TRUE(*r.status == 0 || *r.status == 1)
      << e.scenario << ": the suite exited " << *r.status << ":\n"
      << r.Output();
  auto statuses = CheckStatuses(r.out);
  ASSERT_TRUE(statuses) << e.scenario << ": no check results in the suite's output:\n"
                        << r.Output();
  std::set<std::string> failed, succeeded;
  for (const auto& [id, status] : *statuses) {
    if (status == "FAILURE") failed.insert(id);
    if (status == "SUCCESS") succeeded.insert(id);
  }
  EXPECT_EQ(*r.status, failed.empty() ? 0 : 1) << r.Output();
  if (e.expectation == "pass") {
    EXPECT_TRUE(failed.empty()) << e.scenario << " failed:\n" << r.Output();
    EXPECT_FALSE(succeeded.empty()) << e.scenario << " passed no check:\n" << r.Output();
  } else if (failed.empty()) {
    ADD_FAILURE() << e.scenario << " passes now: remove it from the expected-failure list ("
                  << kTable << ":" << e.line << ")\n"
                  << r.Output();
  } else {
    // Failing for the known reason only: another failed check is a new problem.
    EXPECT_EQ(failed, e.failing_checks)
        << e.scenario << " (" << kTable << ":" << e.line << ") fails other checks than expected:\n"
        << r.Output();
  }
}

std::string ScenarioName(const ::testing::TestParamInfo<Entry>& info) {
  std::string name = info.param.scenario;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, McpConformanceScenario, ::testing::ValuesIn(Runnable()),
                         ScenarioName);

}  // namespace
}  // namespace outpost::testing
