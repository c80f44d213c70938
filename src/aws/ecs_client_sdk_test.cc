// ECS requests: Outpost's EcsClient against the AWS SDK for JavaScript v3 (@aws-sdk/client-ecs
// 3.1178.0, pinned in package.json; tests/aws/ecs_requests.js) for the same inputs — fixed
// signing date and clientToken, credentials with and without a session token, AWS and an
// endpoint override. The SDK's amz-sdk-* headers (invocation id, retry info) and its user-agent
// headers are removed before it signs (they are the SDK's own; Outpost sends neither).
//
// Compared: the body after canonical JSON ordering (keys sorted at every level), then the body
// byte for byte, then every header (names lowercased) — Authorization, and so SigV4, included.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "aws/ecs_client.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const std::string kSource = OUTPOST_SOURCE_DIR;

json::value Canonical(const json::value& v) {
  if (v.is_array()) {
    json::array a;
    for (const auto& e : v.get_array()) a.push_back(Canonical(e));
    return a;
  }
  if (!v.is_object()) return v;
  std::vector<std::string> keys;
  for (const auto& kv : v.get_object()) keys.emplace_back(kv.key());
  std::sort(keys.begin(), keys.end());
  json::object o;
  for (const auto& k : keys) o[k] = Canonical(v.get_object().at(k));
  return o;
}

std::string CanonicalText(const std::string& body) {
  auto doc = ParseJson(body);
  if (!doc.ok()) return "unparsable: " + body;
  return json::serialize(Canonical(*doc));
}

struct Case {
  std::string region;
  std::string endpoint;
  Credentials credentials;
  std::string date;
  std::string op;
  json::object sdk_input;  // the SDK command's input (written independently of the client)
  std::string body;        // what Outpost serializes for the same input
};

const Credentials kPlain{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Credentials kWithToken{"ASIAEXAMPLE", "secret/with+plus=", "FwoGZXIvYXdzE//token+/="};
constexpr char kRun[] = "01JDZXKQ3J8V6W1N2P4R5S7T9V";

std::vector<Case> Cases() {
  std::vector<Case> out;
  // RunTask as the ecs runner sends it: FARGATE, awsvpc, env override, tags.
  EcsRunTaskRequest r;
  r.cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/outpost-prod";
  r.task_definition = "outpost-prod-claude";
  r.launch_type = "FARGATE";
  r.subnets = {"subnet-0a1b2c3d", "subnet-4e5f6a7b"};
  r.security_groups = {"sg-0123456789abcdef0"};
  r.assign_public_ip = false;
  r.container_name = "claude";
  r.environment = {{"OUTPOST_RUN_ID", kRun},
                   {"OUTPOST_CHANNEL_URL", "https://outpost.example.com"},
                   {"OUTPOST_BOOTSTRAP_TOKEN", "01JDZXKQ3J8V6W1N2P4R5S7T9V.b0otstrap-token_xyz"}};
  r.started_by = kRun;
  r.tags = {{"runId", kRun}, {"agent", "claude"}, {"tenant", "acme"}};
  r.client_token = std::string(kRun) + "-1";
  json::object run_input{
      {"cluster", r.cluster},
      {"taskDefinition", r.task_definition},
      {"launchType", "FARGATE"},
      {"count", 1},
      {"networkConfiguration",
       {{"awsvpcConfiguration",
         {{"subnets", {"subnet-0a1b2c3d", "subnet-4e5f6a7b"}},
          {"securityGroups", {"sg-0123456789abcdef0"}},
          {"assignPublicIp", "DISABLED"}}}}},
      {"overrides",
       {{"containerOverrides",
         json::array{json::object{
             {"name", "claude"},
             {"environment",
              json::array{
                  json::object{{"name", "OUTPOST_RUN_ID"}, {"value", kRun}},
                  json::object{{"name", "OUTPOST_CHANNEL_URL"},
                               {"value", "https://outpost.example.com"}},
                  json::object{{"name", "OUTPOST_BOOTSTRAP_TOKEN"},
                               {"value", "01JDZXKQ3J8V6W1N2P4R5S7T9V.b0otstrap-token_xyz"}}}}}}}}},
      {"startedBy", kRun},
      {"tags", json::array{json::object{{"key", "runId"}, {"value", kRun}},
                           json::object{{"key", "agent"}, {"value", "claude"}},
                           json::object{{"key", "tenant"}, {"value", "acme"}}}},
      {"clientToken", std::string(kRun) + "-1"}};
  out.push_back({"us-east-1", "", kPlain, "2026-11-28T08:22:40Z", "RunTask", run_input,
                 *EcsClient::RunTaskBody(r)});
  out.push_back({"eu-west-3", "http://127.0.0.1:4100", kWithToken, "2015-08-30T23:59:59Z",
                 "RunTask", run_input, *EcsClient::RunTaskBody(r)});

  // A capacity provider strategy instead of a launch type, a public IP, no security groups.
  EcsRunTaskRequest c = r;
  c.launch_type = "";
  c.capacity_provider_strategy = {{"FARGATE_SPOT", 3, std::nullopt}, {"FARGATE", 1, 1}};
  c.security_groups.clear();
  c.assign_public_ip = true;
  json::object cap_input = run_input;
  cap_input.erase("launchType");
  cap_input["capacityProviderStrategy"] =
      json::array{json::object{{"capacityProvider", "FARGATE_SPOT"}, {"weight", 3}},
                  json::object{{"capacityProvider", "FARGATE"}, {"weight", 1}, {"base", 1}}};
  cap_input["networkConfiguration"] = {
      {"awsvpcConfiguration",
       {{"subnets", {"subnet-0a1b2c3d", "subnet-4e5f6a7b"}}, {"assignPublicIp", "ENABLED"}}}};
  out.push_back({"ap-southeast-2", "", kWithToken, "2026-11-28T08:22:40Z", "RunTask", cap_input,
                 *EcsClient::RunTaskBody(c)});

  // DescribeTasks: a batch, with and without tags.
  std::vector<std::string> arns;
  for (int i = 0; i < 7; ++i) {
    arns.push_back("arn:aws:ecs:us-east-1:123456789012:task/outpost-prod/" +
                   std::string(32 - std::to_string(i).size(), 'a') + std::to_string(i));
  }
  json::array arn_values;
  for (const auto& a : arns) arn_values.emplace_back(a);
  out.push_back({"us-east-1",
                 "",
                 kPlain,
                 "2026-11-28T08:22:40Z",
                 "DescribeTasks",
                 {{"cluster", "outpost-prod"}, {"tasks", arn_values}},
                 EcsClient::DescribeTasksBody("outpost-prod", arns, false)});
  out.push_back({"us-west-2",
                 "https://ecs.example.com:8443",
                 kWithToken,
                 "2026-11-28T08:22:40Z",
                 "DescribeTasks",
                 {{"cluster", "outpost-prod"}, {"tasks", arn_values}, {"include", {"TAGS"}}},
                 EcsClient::DescribeTasksBody("outpost-prod", arns, true)});

  // StopTask, a reason with quotes and non-ASCII text.
  const std::string reason = "outpost: cancelled: \"stop\" — ünïcødé ☃";
  out.push_back({"us-east-1",
                 "",
                 kPlain,
                 "2026-11-28T08:22:40Z",
                 "StopTask",
                 {{"cluster", "outpost-prod"}, {"task", arns[0]}, {"reason", reason}},
                 EcsClient::StopTaskBody("outpost-prod", arns[0], reason)});

  // ListTasks: by startedBy, and by family + desiredStatus + paging.
  EcsListTasksRequest l1;
  l1.cluster = "outpost-prod";
  l1.started_by = kRun;
  out.push_back({"us-east-1",
                 "",
                 kPlain,
                 "2026-11-28T08:22:40Z",
                 "ListTasks",
                 {{"cluster", "outpost-prod"}, {"startedBy", kRun}},
                 EcsClient::ListTasksBody(l1)});
  EcsListTasksRequest l2;
  l2.cluster = "outpost-prod";
  l2.family = "outpost-prod-claude";
  l2.desired_status = "STOPPED";
  l2.max_results = 100;
  l2.next_token = "eyJ0b2tlbiI6ICJuZXh0In0=";
  out.push_back({"eu-central-1",
                 "",
                 kWithToken,
                 "2026-11-28T08:22:40Z",
                 "ListTasks",
                 {{"cluster", "outpost-prod"},
                  {"family", "outpost-prod-claude"},
                  {"desiredStatus", "STOPPED"},
                  {"maxResults", 100},
                  {"nextToken", "eyJ0b2tlbiI6ICJuZXh0In0="}},
                 EcsClient::ListTasksBody(l2)});
  return out;
}

std::string CasesJson(const std::vector<Case>& cases) {
  json::array a;
  for (const auto& c : cases) {
    a.push_back(json::object{
        {"region", c.region},
        {"endpoint", c.endpoint.empty() ? json::value(nullptr) : json::value(c.endpoint)},
        {"accessKeyId", c.credentials.access_key_id},
        {"secretAccessKey", c.credentials.secret_access_key},
        {"sessionToken", c.credentials.session_token.empty()
                             ? json::value(nullptr)
                             : json::value(c.credentials.session_token)},
        {"signingDate", c.date},
        {"op", c.op},
        {"input", c.sdk_input}});
  }
  return json::serialize(a);
}

std::vector<std::string> SdkRequests(const std::string& cases_file, std::string& error) {
  std::string cmd = "cd '" + kSource + "' && node tests/aws/ecs_requests.js '" + cases_file +
                    "' 2>" + cases_file + ".err";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string current;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) current.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) {
    std::ifstream err(cases_file + ".err");
    error.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = current.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(current.substr(start, nl - start));
  }
  return lines;
}

TEST(EcsRequestsAgainstAwsSdk, BodiesHeadersAndSignaturesAreIdentical) {
  if (!fs::exists(kSource + "/node_modules/@aws-sdk/client-ecs")) {
    FAIL() << "@aws-sdk/client-ecs is not installed (no " << kSource
           << "/node_modules/@aws-sdk/client-ecs): run scripts/install-deps.sh test";
  }
  if (std::system("node --version >/dev/null 2>&1") != 0) {
    FAIL() << "node is not installed (not on PATH): run scripts/install-deps.sh test";
  }
  std::vector<Case> cases = Cases();
  char tmpl[] = "/tmp/outpost-ecs-sdk-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl) << CasesJson(cases);
  std::string error;
  std::vector<std::string> sdk = SdkRequests(tmpl, error);
  fs::remove(tmpl);
  fs::remove(std::string(tmpl) + ".err");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(sdk.size(), cases.size());

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + c.op + " in " + c.region);
    auto theirs_doc = ParseJson(sdk[i]);
    ASSERT_TRUE(theirs_doc.ok() && theirs_doc->is_object()) << sdk[i];
    const json::object& theirs = theirs_doc->get_object();
    const std::string their_body(theirs.at("body").as_string());

    EcsClientOptions o;
    o.region = c.region;
    o.endpoint = c.endpoint;
    o.credentials = c.credentials;
    auto client = EcsClient::Create(
        o, [](const net::HttpRequest&) -> Result<net::HttpResponse> { return Internal("unsent"); },
        RealClock::Instance());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    auto ours = (*client)->SignedRequest(c.op, c.body, *ParseTime(c.date));
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();

    EXPECT_EQ(CanonicalText(ours->body), CanonicalText(their_body));
    EXPECT_EQ(ours->body, their_body);
    EXPECT_EQ(ours->method, std::string(theirs.at("method").as_string()));
    EXPECT_EQ(ours->url.path, std::string(theirs.at("path").as_string()));
    std::map<std::string, std::string> our_headers, their_headers;
    for (const auto& [k, v] : ours->headers) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      our_headers[lower] = v;
    }
    for (const auto& kv : theirs.at("headers").as_object()) {
      their_headers[std::string(kv.key())] = std::string(kv.value().as_string());
    }
    EXPECT_EQ(our_headers, their_headers);
    EXPECT_EQ(our_headers["authorization"], their_headers["authorization"]);
  }
}

}  // namespace
}  // namespace outpost::aws
