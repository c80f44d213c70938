// GetSecretValue: Outpost's SecretsManagerClient against the AWS SDK for JavaScript v3
// (@aws-sdk/client-secrets-manager 3.1178.0, tests/aws/secretsmanager_requests.mjs) for the same
// inputs at a fixed signing date — AWS and custom endpoints, with and without a session token,
// secret ids that are names, ARNs, with spaces and non-ASCII, version ids and stages. After the
// SDK's telemetry headers (amz-sdk-*, x-amz-user-agent, user-agent) are taken out before it
// signs, the method, URL, every header (the SigV4 Authorization included) and the body must be
// identical, byte for byte; the bodies are also compared as canonical JSON (sorted keys) so that
// a difference is reported as one of content or of order.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "aws/secretsmanager_client.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const std::string kSource = OUTPOST_SOURCE_DIR;

struct SmCase {
  std::string region;
  std::string endpoint;  // "" = AWS
  Credentials credentials;
  GetSecretValueRequest request;
  std::string date;
};

std::vector<SmCase> Cases() {
  const Credentials plain{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const Credentials with_token{"ASIAEXAMPLE", "secret/with+plus=", "FwoGZXIvYXdzE//token+/="};
  const std::vector<GetSecretValueRequest> requests = {
      {"outpost/prod/ANTHROPIC_API_KEY", "", ""},
      {"arn:aws:secretsmanager:us-east-1:311493921645:secret:outpost/api-endpoint-R8NXew", "", ""},
      {"/outpost/api-keys/anthropic", "", "AWSPREVIOUS"},
      {"outpost/dev/GITHUB_TOKEN", "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE", ""},
      {"name with spaces/ünïcødé \"quoted\" \\ back", "v-1", "AWSCURRENT"},
  };
  const std::vector<std::pair<std::string, std::string>> places = {
      {"us-east-1", ""},
      {"eu-west-3", ""},
      {"us-east-1", "http://127.0.0.1:4566"},
      {"ap-southeast-2", "https://vpce-0123.secretsmanager.ap-southeast-2.vpce.amazonaws.com"},
  };
  std::vector<SmCase> out;
  int i = 0;
  for (const auto& r : requests) {
    for (const auto& [region, endpoint] : places) {
      out.push_back({region, endpoint, i % 2 ? with_token : plain, r,
                     i % 3 ? "2026-11-28T08:22:40Z" : "2015-08-30T23:59:59Z"});
      ++i;
    }
  }
  return out;
}

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

std::string CasesJson(const std::vector<SmCase>& cases) {
  json::array a;
  for (const auto& c : cases) {
    a.push_back(json::object{{"region", c.region},
                             {"endpoint", OrNull(c.endpoint)},
                             {"accessKeyId", c.credentials.access_key_id},
                             {"secretAccessKey", c.credentials.secret_access_key},
                             {"sessionToken", OrNull(c.credentials.session_token)},
                             {"secretId", c.request.secret_id},
                             {"versionId", OrNull(c.request.version_id)},
                             {"versionStage", OrNull(c.request.version_stage)},
                             {"signingDate", c.date}});
  }
  return json::serialize(a);
}

// Runs the SDK script: one JSON line per case. Its stderr (Node's and the SDK's warnings) goes
// to a file, shown when it fails.
std::vector<json::object> SdkRequests(const std::string& cases_file, std::string& error) {
  std::string cmd = "cd '" + kSource + "' && NODE_NO_WARNINGS=1 node " +
                    "tests/aws/secretsmanager_requests.mjs '" + cases_file + "' 2>" + cases_file +
                    ".err";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) {
    std::ifstream err(cases_file + ".err");
    error.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    error = "node exited " + std::to_string(rc) + ": " + error;
  }
  std::vector<json::object> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    auto doc = ParseJson(out.substr(start, nl - start));
    if (!doc.ok() || !doc->is_object()) {
      error += "not a JSON line: " + out.substr(start, nl - start);
      continue;
    }
    lines.push_back(doc->get_object());
  }
  return lines;
}

// Sorted keys, recursively.
json::value Canonical(const json::value& v) {
  if (v.is_object()) {
    std::map<std::string, json::value> sorted;
    for (const auto& kv : v.get_object()) sorted[std::string(kv.key())] = Canonical(kv.value());
    json::object o;
    for (auto& [k, x] : sorted) o[k] = std::move(x);
    return o;
  }
  if (v.is_array()) {
    json::array a;
    for (const auto& x : v.get_array()) a.push_back(Canonical(x));
    return a;
  }
  return v;
}

TEST(SecretsManagerAgainstAwsSdk, RequestsAreIdentical) {
  if (!fs::exists(kSource + "/node_modules/@aws-sdk/client-secrets-manager")) {
    FAIL() << "@aws-sdk/client-secrets-manager is not installed (no " << kSource
           << "/node_modules/@aws-sdk/client-secrets-manager): run scripts/install-deps.sh test";
  }
  if (std::system("node --version >/dev/null 2>&1") != 0) {
    FAIL() << "node is not installed (not on PATH): run scripts/install-deps.sh test";
  }
  std::vector<SmCase> cases = Cases();
  char tmpl[] = "/tmp/outpost-sm-sdk-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl) << CasesJson(cases);
  std::string error;
  std::vector<json::object> sdk = SdkRequests(tmpl, error);
  fs::remove(tmpl);
  fs::remove(std::string(tmpl) + ".err");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(sdk.size(), cases.size());

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const SmCase& c = cases[i];
    SCOPED_TRACE("case " + std::to_string(i) + ": " + c.request.secret_id + " in " + c.region +
                 (c.endpoint.empty() ? "" : " at " + c.endpoint));
    SecretsManagerClientOptions o;
    o.region = c.region;
    o.endpoint = c.endpoint;
    o.credentials = c.credentials;
    auto client = SecretsManagerClient::Create(
        o, [](const net::HttpRequest&) -> Result<net::HttpResponse> { return Internal("unused"); },
        RealClock::Instance());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    auto ours = (*client)->BuildGetSecretValue(c.request, *ParseTime(c.date));
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();

    const json::object& theirs = sdk[i];
    EXPECT_EQ(ours->method, json::value_to<std::string>(theirs.at("method")));
    EXPECT_EQ(ours->url.scheme + "://" + ours->url.HostHeader() + ours->url.path,
              json::value_to<std::string>(theirs.at("url")));
    const std::string their_body = json::value_to<std::string>(theirs.at("body"));
    EXPECT_EQ(ToJson(Canonical(*ParseJson(ours->body))), ToJson(Canonical(*ParseJson(their_body))));
    EXPECT_EQ(ours->body, their_body);  // the bytes that were signed
    std::map<std::string, std::string> our_headers, their_headers;
    for (const auto& [k, v] : ours->headers) {
      std::string lower = k;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      EXPECT_TRUE(our_headers.emplace(lower, v).second) << "header " << k << " twice";
    }
    for (const auto& kv : theirs.at("headers").get_object()) {
      their_headers[std::string(kv.key())] = json::value_to<std::string>(kv.value());
    }
    EXPECT_EQ(our_headers, their_headers);
    EXPECT_EQ(our_headers["authorization"], their_headers["authorization"]);
  }
}

}  // namespace
}  // namespace outpost::aws
