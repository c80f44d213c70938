// Presigned URLs: Outpost's S3Client::PresignGet against the AWS SDK for JavaScript v3
// (@aws-sdk/s3-request-presigner, tests/aws/presign.js) for the same inputs — fixed signing date,
// credentials with and without a session token, awkward keys, path-style and virtual-hosted
// addressing (and the SDK's fallbacks from one to the other), several expiries and dates. The URLs
// must be identical byte for byte.
//
// The SDK's GetObjectCommand always adds "x-id=GetObject" to the query (and signs it); the C++
// side passes it as an extra query parameter so that both sign the same request.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "aws/s3_client.h"
#include "common/time_util.h"

namespace outpost::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const std::string kSource = OUTPOST_SOURCE_DIR;

struct PresignCase {
  std::string region;
  std::string endpoint;  // "" = AWS
  bool path_style;
  Credentials credentials;
  std::string bucket, key;
  int expires;
  std::string date;
};

std::vector<PresignCase> Cases() {
  const Credentials plain{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const Credentials with_token{"ASIAEXAMPLE", "secret/with+plus=", "FwoGZXIvYXdzE//token+/="};
  const std::vector<std::string> keys = {
      "dispatches/01JDZXKQ3J8V6W1N2P4R5S7T9V/output.log",
      "dir with spaces/file name.txt",
      "ünïcødé/日本語/☃.patch",
      "a+b/c+d=e&f",
      "odd/!'()*~._-$@,;:?#[]%25.bin",
      "trailing/slash/",
  };
  std::vector<PresignCase> out;
  int i = 0;
  for (const auto& key : keys) {
    for (const auto& creds : {plain, with_token}) {
      int expires = std::vector<int>{1, 60, 3600, 86400, 604800}[static_cast<std::size_t>(i % 5)];
      std::string date = i % 2 ? "2026-11-28T08:22:40Z" : "2015-08-30T23:59:59Z";
      out.push_back({"us-east-1", "http://127.0.0.1:4568", true, creds, "outpost-artifacts", key,
                     expires, date});
      out.push_back({"eu-west-3", "", false, creds, "my.bucket-01", key, expires, date});
      out.push_back({"us-west-2", "", true, creds, "outpost-artifacts", key, expires, date});
      out.push_back({"ap-southeast-2", "https://s3.example.com:8443", false, creds,
                     "outpost-artifacts", key, expires, date});
      // Fallbacks to path-style: an IP endpoint; dots are fine over http when every label is.
      out.push_back({"us-east-1", "http://127.0.0.1:9000", false, creds, "outpost-artifacts", key,
                     expires, date});
      out.push_back({"us-east-1", "http://minio.internal:9000", false, creds, "outpost.artifacts",
                     key, expires, date});
      out.push_back({"us-east-1", "http://minio.internal:9000", false, creds, "Upper_Case", key,
                     expires, date});
      ++i;
    }
  }
  return out;
}

std::string CasesJson(const std::vector<PresignCase>& cases) {
  json::array a;
  for (const auto& c : cases) {
    a.push_back(json::object{
        {"region", c.region},
        {"endpoint", c.endpoint.empty() ? json::value(nullptr) : json::value(c.endpoint)},
        {"pathStyle", c.path_style},
        {"accessKeyId", c.credentials.access_key_id},
        {"secretAccessKey", c.credentials.secret_access_key},
        {"sessionToken", c.credentials.session_token.empty()
                             ? json::value(nullptr)
                             : json::value(c.credentials.session_token)},
        {"bucket", c.bucket},
        {"key", c.key},
        {"expiresIn", c.expires},
        {"signingDate", c.date}});
  }
  return json::serialize(a);
}

// Runs the SDK script; each output line is one URL.
std::vector<std::string> SdkUrls(const std::string& cases_file, std::string& error) {
  std::string cmd = "cd '" + kSource + "' && node tests/aws/presign.js '" + cases_file + "' 2>" +
                    cases_file + ".err";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::vector<std::string> lines;
  std::string current;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) current.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) {
    std::ifstream err(cases_file + ".err");
    error.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  }
  std::size_t start = 0;
  for (std::size_t nl; (nl = current.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(current.substr(start, nl - start));
  }
  return lines;
}

TEST(PresignAgainstAwsSdk, UrlsAreByteIdentical) {
  if (!fs::exists(kSource + "/node_modules/@aws-sdk/s3-request-presigner") ||
      !fs::exists(kSource + "/node_modules/@aws-sdk/client-s3")) {
    FAIL() << "@aws-sdk is not installed (no " << kSource
           << "/node_modules/@aws-sdk/{client-s3,s3-request-presigner}): run "
              "scripts/install-deps.sh test";
  }
  if (std::system("node --version >/dev/null 2>&1") != 0) {
    FAIL() << "node is not installed (not on PATH): run scripts/install-deps.sh test";
  }
  std::vector<PresignCase> cases = Cases();
  char tmpl[] = "/tmp/outpost-presign-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl) << CasesJson(cases);
  std::string error;
  std::vector<std::string> sdk = SdkUrls(tmpl, error);
  fs::remove(tmpl);
  fs::remove(std::string(tmpl) + ".err");
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(sdk.size(), cases.size());

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const PresignCase& c = cases[i];
    S3ClientOptions o;
    o.region = c.region;
    o.endpoint = c.endpoint;
    o.path_style = c.path_style;
    o.credentials = c.credentials;
    auto client = S3Client::Create(
        o,
        [](const net::HttpRequest&) -> Result<net::HttpResponse> {
          return Internal("presigning sends nothing");
        },
        RealClock::Instance());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    auto url = (*client)->PresignGet(c.bucket, c.key, std::chrono::seconds(c.expires),
                                     *ParseTime(c.date), {{"x-id", "GetObject"}});
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    EXPECT_EQ(*url, sdk[i]) << "case " << i << ": key '" << c.key << "', region " << c.region
                            << (c.path_style ? ", path-style" : ", virtual-hosted");
  }
}

}  // namespace
}  // namespace outpost::aws
