// The published AWS SigV4 test vectors (tests/testdata/aws-sigv4, from awslabs/aws-c-auth): for
// every case, header signing and query signing must reproduce the canonical request, the string
// to sign, the signature and the signed request byte for byte.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time_util.h"

namespace outpost::aws {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kVectors = fs::path(OUTPOST_SOURCE_DIR) / "tests/testdata/aws-sigv4";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// request.txt: "METHOD target HTTP/1.1", header lines (a line starting with whitespace continues
// the previous header), an empty line, the body.
struct VectorRequest {
  std::string request_line_method, target, raw_query;
  std::vector<std::string> raw_header_lines;
  SignableRequest signable;
};

VectorRequest ParseRequest(const std::string& text) {
  VectorRequest r;
  std::size_t eol = text.find('\n');
  std::string line = text.substr(0, eol);
  std::size_t sp = line.find(' ');
  r.signable.method = line.substr(0, sp);
  r.target = line.substr(sp + 1, line.rfind(" HTTP/") - sp - 1);
  std::size_t q = r.target.find('?');
  r.signable.path = r.target.substr(0, q);
  if (q != std::string::npos) {
    r.raw_query = r.target.substr(q + 1);
    std::istringstream params(r.raw_query);
    for (std::string kv; std::getline(params, kv, '&');) {
      std::size_t eq = kv.find('=');
      r.signable.query.emplace_back(UriDecode(kv.substr(0, eq)),
                                    eq == std::string::npos ? "" : UriDecode(kv.substr(eq + 1)));
    }
  }
  std::size_t pos = eol + 1;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string l = text.substr(pos, end - pos);
    pos = end + 1;
    if (l.empty()) {
      r.signable.body = pos < text.size() ? text.substr(pos) : "";
      break;
    }
    r.raw_header_lines.push_back(l);
    if (l[0] == ' ' || l[0] == '\t') {
      r.signable.headers.back().second += "\n" + l;
      continue;
    }
    std::size_t colon = l.find(':');
    r.signable.headers.emplace_back(l.substr(0, colon), l.substr(colon + 1));
  }
  return r;
}

struct Case {
  VectorRequest request;
  Credentials credentials;
  SigningOptions options;
  WallTime when;
  std::chrono::seconds expires{0};
};

Case LoadCase(const fs::path& dir) {
  Case c;
  json::object ctx = json::parse(Slurp(dir / "context.json")).as_object();
  const json::object& creds = ctx.at("credentials").as_object();
  c.credentials.access_key_id = json::value_to<std::string>(creds.at("access_key_id"));
  c.credentials.secret_access_key = json::value_to<std::string>(creds.at("secret_access_key"));
  if (creds.contains("token")) {
    c.credentials.session_token = json::value_to<std::string>(creds.at("token"));
  }
  c.options.region = json::value_to<std::string>(ctx.at("region"));
  c.options.service = json::value_to<std::string>(ctx.at("service"));
  c.options.normalize_path = ctx.at("normalize").as_bool();
  c.options.encode_path = true;  // every vector is for a non-S3 service
  c.options.add_content_sha256_header = ctx.at("sign_body").as_bool();
  if (ctx.contains("omit_session_token")) {
    c.options.omit_session_token = ctx.at("omit_session_token").as_bool();
  }
  c.expires = std::chrono::seconds(ctx.at("expiration_in_seconds").as_int64());
  c.when = *ParseTime(json::value_to<std::string>(ctx.at("timestamp")));
  c.request = ParseRequest(Slurp(dir / "request.txt"));
  return c;
}

std::string HeaderLines(const VectorRequest& r) {
  std::string out;
  for (const auto& l : r.raw_header_lines) out += l + "\n";
  return out;
}

std::string HeaderSignedRequest(const VectorRequest& r, const Signature& s) {
  std::string out = r.signable.method + " " + r.target + " HTTP/1.1\n" + HeaderLines(r);
  for (const auto& [k, v] : s.added_headers) out += k + ":" + v + "\n";
  return out + "\n" + r.signable.body;
}

std::string QuerySignedRequest(const VectorRequest& r, const Signature& s) {
  std::string target = r.target;
  char sep = r.raw_query.empty() ? '?' : '&';
  for (const auto& [k, v] : s.added_query) {
    target += sep + k + "=" + UriEncode(v);
    sep = '&';
  }
  return r.signable.method + " " + target + " HTTP/1.1\n" + HeaderLines(r) + "\n" + r.signable.body;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kVectors)) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SigV4Vectors, AllCasesArePresent) {
  // 38 case directories (+ README.md and LICENSE); a lost copy must not pass silently.
  EXPECT_EQ(CaseNames().size(), 38u);
}

class SigV4Vector : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4Vector, HeaderSigningMatchesByteForByte) {
  fs::path dir = kVectors / GetParam();
  Case c = LoadCase(dir);
  auto s = SignHeaders(c.request.signable, c.credentials, c.options, c.when);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canonical_request, Slurp(dir / "header-canonical-request.txt"));
  EXPECT_EQ(s->string_to_sign, Slurp(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(s->signature, Slurp(dir / "header-signature.txt"));
  EXPECT_EQ(HeaderSignedRequest(c.request, *s), Slurp(dir / "header-signed-request.txt"));
}

TEST_P(SigV4Vector, QuerySigningMatchesByteForByte) {
  fs::path dir = kVectors / GetParam();
  Case c = LoadCase(dir);
  auto s = SignQuery(c.request.signable, c.credentials, c.options, c.when, c.expires);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->canonical_request, Slurp(dir / "query-canonical-request.txt"));
  EXPECT_EQ(s->string_to_sign, Slurp(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(s->signature, Slurp(dir / "query-signature.txt"));
  EXPECT_EQ(QuerySignedRequest(c.request, *s), Slurp(dir / "query-signed-request.txt"));
}

INSTANTIATE_TEST_SUITE_P(Published, SigV4Vector, ::testing::ValuesIn(CaseNames()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The AWS documentation's own example of a signing key (IAM user guide, "Derive a signing key").
TEST(SigV4, DerivedSigningKeyMatchesTheDocumentedExample) {
  EXPECT_EQ(HexEncode(DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                       "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, S3OptionsSignThePathAsSentWithoutNormalisingOrReEncoding) {
  SigningOptions s3 = SigningOptions::ForS3("us-east-1");
  EXPECT_EQ(CanonicalUri("/bucket/a%20b/../c//d", s3), "/bucket/a%20b/../c//d");
  SigningOptions other = SigningOptions::ForService("us-east-1", "dynamodb");
  EXPECT_EQ(CanonicalUri("/bucket/a%20b/../c//d", other), "/bucket/c/d");
  EXPECT_EQ(CanonicalUri("/a%20b", other), "/a%2520b");
}

// The S3 developer guide's worked examples (examplebucket, 2013-05-24, "GET /test.txt").
TEST(SigV4, S3DocumentedGetObjectExample) {
  SignableRequest r{"GET",
                    "/test.txt",
                    {},
                    {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}},
                    ""};
  auto s = SignHeaders(r, {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                       SigningOptions::ForS3("us-east-1"), *ParseTime("2013-05-24T00:00:00Z"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(s->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3DocumentedPresignedUrlExample) {
  SignableRequest r{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}}, ""};
  SigningOptions o = SigningOptions::ForS3("us-east-1");
  o.payload_hash = std::string(kUnsignedPayload);
  auto s = SignQuery(r, {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""}, o,
                     *ParseTime("2013-05-24T00:00:00Z"), std::chrono::hours(24));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, S3HeaderSigningAddsAndSignsTheContentHash) {
  SignableRequest r{"PUT", "/b/k", {}, {{"Host", "s3.amazonaws.com"}}, "hello"};
  auto s = SignHeaders(r, {"AK", "SK", ""}, SigningOptions::ForS3("eu-west-1"),
                       *ParseTime("2024-01-02T03:04:05Z"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->signed_headers, "host;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(s->added_headers[1],
            (std::pair<std::string, std::string>{"x-amz-content-sha256", Sha256Hex("hello")}));
  EXPECT_EQ(s->added_headers.back().first, "Authorization");
}

TEST(SigV4, RejectsMissingHostEmptyKeysAndOutOfRangeExpiry) {
  SignableRequest no_host{"GET", "/", {}, {}, ""};
  auto t = *ParseTime("2024-01-02T03:04:05Z");
  EXPECT_EQ(SignHeaders(no_host, {"AK", "SK", ""}, SigningOptions::ForS3("r"), t).status().code(),
            Code::kInvalidArgument);
  SignableRequest r{"GET", "/", {}, {{"Host", "h"}}, ""};
  EXPECT_EQ(SignHeaders(r, {"", "SK", ""}, SigningOptions::ForS3("r"), t).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(
      SignQuery(r, {"AK", "SK", ""}, SigningOptions::ForS3("r"), t, std::chrono::seconds(604801))
          .status()
          .code(),
      Code::kInvalidArgument);
  EXPECT_TRUE(
      SignQuery(r, {"AK", "SK", ""}, SigningOptions::ForS3("r"), t, std::chrono::seconds(604800))
          .ok());
}

TEST(SigV4, UriEncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UriEncode("a b+c/d~e*é"), "a%20b%2Bc%2Fd~e%2A%C3%A9");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriDecode("a%20b%2Bc+%zz%4"), "a b+c+%zz%4");
}

}  // namespace
}  // namespace outpost::aws
