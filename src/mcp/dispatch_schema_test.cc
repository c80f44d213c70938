// The dispatch tool's inputSchema against the REST validator (core/dispatch_request.h): for a
// table of good and bad bodies both must accept or both reject, naming the same field. Server
// policy that no schema can know (which agents are installed, which secrets exist, whether
// "host" networking or persistent workspaces are allowed) is set permissive here, and left out.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/dispatch_request.h"
#include "mcp/json_schema.h"
#include "mcp/tools.h"
#include "wire/dispatch_request_json.h"

namespace outpost::mcp {
namespace {
namespace json = boost::json;

std::vector<std::string> Paths(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.path);
  return out;
}

class DispatchSchemaTest : public ::testing::Test {
 protected:
  DispatchSchemaTest() {
    opts_.runner = RunnerKind::kSandbox;
    opts_.sandbox.allow_host_network = true;
    // The schema states the field's own range; the operator's ceilings ([limits]) are the
    // server's business, so here they are as wide as the schema.
    opts_.run_limits.ceiling_memory_mb = 262144;
    opts_.run_limits.ceiling_cpu_units = 65536;
    opts_.run_limits.ceiling_disk_gb = 2048;
    secrets_ = MakeSecretStore({{"OUTPOST_SECRET_MY_TOKEN", "x"}}, "");
  }
  // Both verdicts; "" when they agree, else what differs.
  std::string Compare(const std::string& body) {
    json::value v = json::parse(body);
    std::vector<FieldError> schema = ValidateSchema(json::value(DispatchInputSchema()), v);
    auto parsed =
        ValidateDispatchRequests(wire::DecodeDispatchRequest(v), agents_, opts_, secrets_.get());
    if (parsed.ok() != schema.empty()) {
      std::string why =
          parsed.ok() ? "validator accepts, schema rejects:"
                      : "validator rejects (" + parsed.status().ToString() + "), schema accepts";
      for (const auto& e : schema) why += " " + e.path + ": " + e.message;
      return why;
    }
    if (parsed.ok()) return "";
    std::vector<std::string> rest;
    for (const auto& e : parsed.status().details().at("errors").as_array()) {
      rest.emplace_back(e.as_object().at("path").as_string());
    }
    for (const auto& p : Paths(schema)) {
      if (std::find(rest.begin(), rest.end(), p) != rest.end()) return "";
    }
    return "different fields: validator " + parsed.status().ToString() + "; schema " +
           (schema.empty() ? "" : schema[0].path + ": " + schema[0].message);
  }

  Options opts_ = DefaultOptions();
  AgentRegistry agents_{opts_};
  std::unique_ptr<SecretStore> secrets_;
};

TEST_F(DispatchSchemaTest, SchemaAndValidatorAgreeOnEveryRow) {
  const std::string long_task(kMaxTaskChars, 'x');
  const std::vector<std::string> rows = {
      // accepted
      R"({"agent":"shell","task":"echo hi"})",
      R"({"agent":["shell"],"task":"t"})",
      R"({"agent":"shell","task":"t","modelId":"shell","repo":"rgsuarez/outpost","branch":"feature/x-1",
          "context":"full","timeoutSeconds":86400,"inactivityTimeoutSeconds":1,
          "workspaceMode":"ephemeral","idempotencyKey":"k","tags":{"team.a/b-c_d":"v"},
          "resourceConstraints":{"maxMemoryMb":32,"maxCpuUnits":65536,"maxDiskGb":2048},
          "network":"host","additionalSecrets":["MY_TOKEN"]})",
      R"({"agent":"shell","task":"t","modelId":null,"repo":null,"branch":null,"context":null,
          "timeoutSeconds":null,"tags":null,"resourceConstraints":{"maxMemoryMb":null},
          "network":null,"additionalSecrets":null,"idempotencyKey":null})",
      R"({"agent":"shell","task":"t","timeoutSeconds":5.0})",
      R"({"agent":"shell","task":"t","maxCostUsd":0.25})",
      R"({"agent":"shell","task":"t","maxCostUsd":null})",
      R"({"agent":"shell","task":"t","network":"allowlist"})",
      R"({"agent":"shell","task":")" + long_task + R"("})",
      R"({"agent":"shell","task":"ééé","tags":{"k":")" + std::string(256, 'v') + R"("}})",
      R"({"agent":"shell","task":"t","repo":"o/r","verify":"make test"})",
      R"({"agent":"shell","task":"t","verify":null})",
      R"({"agent":"shell","task":"t","repo":"o/r","verify":")" + std::string(kMaxVerifyChars, 'v') +
          R"("})",
      // rejected
      R"({"task":"t"})",
      R"({"agent":"shell"})",
      R"({"agent":"","task":"t"})",
      R"({"agent":5,"task":"t"})",
      R"({"agent":[],"task":"t"})",
      R"({"agent":["shell","shell"],"task":"t"})",
      R"({"agent":[1],"task":"t"})",
      R"({"agent":null,"task":"t"})",
      R"({"agent":"shell","task":""})",
      R"({"agent":"shell","task":")" + long_task + R"(x"})",
      R"({"agent":"shell","task":"t","bogus":1})",
      R"({"agent":"shell","task":"t","maxCostUsd":0})",
      R"({"agent":"shell","task":"t","maxCostUsd":-1})",
      R"({"agent":"shell","task":"t","maxCostUsd":"1"})",
      R"({"agent":"shell","task":"t","modelId":""})",
      R"({"agent":"shell","task":"t","modelId":7})",
      R"({"agent":"shell","task":"t","repo":""})",
      R"({"agent":"shell","task":"t","branch":"-x"})",
      R"({"agent":"shell","task":"t","branch":"a..b"})",
      R"({"agent":"shell","task":"t","branch":"a/"})",
      R"({"agent":"shell","task":"t","branch":"a.lock"})",
      R"({"agent":"shell","task":"t","branch":"a b"})",
      R"({"agent":"shell","task":"t","branch":"x."})",
      R"({"agent":"shell","task":"t","branch":"a//b"})",
      R"({"agent":"shell","task":"t","context":"huge"})",
      R"({"agent":"shell","task":"t","timeoutSeconds":0})",
      R"({"agent":"shell","task":"t","timeoutSeconds":86401})",
      R"({"agent":"shell","task":"t","timeoutSeconds":1.5})",
      R"({"agent":"shell","task":"t","timeoutSeconds":"60"})",
      R"({"agent":"shell","task":"t","inactivityTimeoutSeconds":0})",
      R"({"agent":"shell","task":"t","workspaceMode":"shared"})",
      R"({"agent":"shell","task":"t","network":"internet"})",
      R"({"agent":"shell","task":"t","idempotencyKey":""})",
      R"({"agent":"shell","task":"t","idempotencyKey":")" + std::string(129, 'k') + R"("})",
      R"({"agent":"shell","task":"t","tags":[]})",
      R"({"agent":"shell","task":"t","tags":{"bad key":"v"}})",
      R"({"agent":"shell","task":"t","tags":{"k":1}})",
      R"({"agent":"shell","task":"t","tags":{"k":")" + std::string(257, 'v') + R"("}})",
      R"({"agent":"shell","task":"t","resourceConstraints":{"maxMemoryMb":31}})",
      R"({"agent":"shell","task":"t","resourceConstraints":{"maxCpuUnits":65537}})",
      R"({"agent":"shell","task":"t","resourceConstraints":{"maxDiskGb":0}})",
      R"({"agent":"shell","task":"t","resourceConstraints":{"gpus":1}})",
      R"({"agent":"shell","task":"t","resourceConstraints":5})",
      R"({"agent":"shell","task":"t","additionalSecrets":"MY_TOKEN"})",
      R"({"agent":"shell","task":"t","additionalSecrets":["my_token"]})",
      R"({"agent":"shell","task":"t","additionalSecrets":[3]})",
      R"({"agent":"shell","task":"t","repo":"o/r","verify":""})",
      R"({"agent":"shell","task":"t","repo":"o/r","verify":5})",
      R"({"agent":"shell","task":"t","repo":"o/r","verify":")" +
          std::string(kMaxVerifyChars + 1, 'v') + R"("})",
  };
  for (const auto& row : rows) {
    EXPECT_EQ(Compare(row), "") << row.substr(0, 200);
  }
}

TEST_F(DispatchSchemaTest, FiftyOneTagsAreRejectedByBoth) {
  json::object tags;
  for (int i = 0; i < 51; ++i) tags["k" + std::to_string(i)] = "v";
  EXPECT_EQ(
      Compare(json::serialize(json::object{{"agent", "shell"}, {"task", "t"}, {"tags", tags}})),
      "");
  tags.erase("k50");
  EXPECT_EQ(
      Compare(json::serialize(json::object{{"agent", "shell"}, {"task", "t"}, {"tags", tags}})),
      "");
}

TEST_F(DispatchSchemaTest, TheSchemaListsExactlyTheValidatorsFields) {
  // A field added to the validator but not to the schema is rejected by the schema: this row
  // is the whole list of REST fields (ARCHITECTURE §3).
  const json::object schema = DispatchInputSchema();
  const auto& props = schema.at("properties").as_object();
  std::vector<std::string> names;
  for (const auto& kv : props) names.emplace_back(kv.key());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"additionalSecrets", "agent", "branch", "context",
                                      "idempotencyKey", "inactivityTimeoutSeconds", "maxCostUsd",
                                      "modelId", "network", "repo", "resourceConstraints", "tags",
                                      "task", "timeoutSeconds", "verify", "workspaceMode"}));
  EXPECT_EQ(DispatchInputSchema().at("required"), json::parse(R"(["agent","task"])"));
}

}  // namespace
}  // namespace outpost::mcp
