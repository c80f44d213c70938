#include "artifacts/local/url_signer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/value.hpp>
#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::artifacts {
namespace {

using Query = std::multimap<std::string, std::string>;
using outpost::testing::StatusIs;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Splits "/files/k?expires=1&signature=ab" into its path and query.
struct Target {
  std::string path;
  Query query;
};

Target Split(const std::string& target) {
  Target t;
  auto q = target.find('?');
  t.path = target.substr(0, q);
  std::string rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    t.query.emplace(pair.substr(0, eq), pair.substr(eq + 1));
    rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
  }
  return t;
}

std::string ReasonOf(const Status& st) {
  auto it = st.details().find("reason");
  return it == st.details().end() ? "" : std::string(it->value().as_string());
}

class UrlSignerTest : public ::testing::Test {
 protected:
  UrlSigner signer_{std::string(32, 'k')};
  SimulatedClock clock_;
  WallTime expires_ = clock_.Now() + seconds(3600);
  Target url_ = Split(signer_.SignedTarget("dispatches/01RUNA/output.log", expires_));
};

TEST_F(UrlSignerTest, UrlHasTheDocumentedForm) {
  EXPECT_EQ(url_.path, "/files/dispatches/01RUNA/output.log");
  EXPECT_EQ(url_.query.find("expires")->second, "1700003600");
  EXPECT_EQ(url_.query.find("signature")->second.size(), 64u);
}

TEST_F(UrlSignerTest, FreshUrlVerifiesForGetAndHead) {
  EXPECT_TRUE(signer_.Verify("GET", url_.path, url_.query, clock_.Now()).ok());
  EXPECT_TRUE(signer_.Verify("HEAD", url_.path, url_.query, clock_.Now()).ok());
}

TEST_F(UrlSignerTest, ExpiresAfterTheLastSecond) {
  clock_.Advance(seconds(3600));
  EXPECT_TRUE(signer_.Verify("GET", url_.path, url_.query, clock_.Now()).ok());
  clock_.Advance(seconds(1));
  Status st = signer_.Verify("GET", url_.path, url_.query, clock_.Now());
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(ReasonOf(st), "expired");
}

TEST_F(UrlSignerTest, TamperedExpiryIsABadSignature) {
  Query q = url_.query;
  q.find("expires")->second = "1800000000";
  Status st = signer_.Verify("GET", url_.path, q, clock_.Now());
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(ReasonOf(st), "bad_signature");
}

TEST_F(UrlSignerTest, UrlRetargetedToAnotherRunsKeyIsRefused) {
  Status st =
      signer_.Verify("GET", "/files/dispatches/01RUNB/output.log", url_.query, clock_.Now());
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(ReasonOf(st), "bad_signature");
}

TEST_F(UrlSignerTest, OtherMethodsAreRefused) {
  for (const char* method : {"PUT", "DELETE", "POST"}) {
    Status st = signer_.Verify(method, url_.path, url_.query, clock_.Now());
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << method;
    EXPECT_EQ(ReasonOf(st), "method_not_allowed") << method;
  }
}

TEST_F(UrlSignerTest, SignatureCoversTheMethod) {
  const std::string path = "/files/a";
  EXPECT_NE(signer_.Signature("GET", path, 100), signer_.Signature("PUT", path, 100));
}

TEST_F(UrlSignerTest, MissingOrRepeatedParametersAreRefused) {
  Query no_sig = url_.query;
  no_sig.erase("signature");
  Query no_exp = url_.query;
  no_exp.erase("expires");
  Query twice = url_.query;
  twice.emplace("expires", "1");
  for (const Query& q : {no_sig, no_exp, twice, Query{}}) {
    Status st = signer_.Verify("GET", url_.path, q, clock_.Now());
    EXPECT_EQ(st.code(), Code::kPermissionDenied);
    EXPECT_EQ(ReasonOf(st), "missing_parameters");
  }
}

TEST_F(UrlSignerTest, MalformedParametersAreRefused) {
  const std::string sig = url_.query.find("signature")->second;
  std::string upper = sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto [exp, s] : std::vector<std::pair<std::string, std::string>>{
           {"12x", sig},
           {"-5", sig},
           {"", sig},
           {"1700003600", sig.substr(1)},
           {"1700003600", upper == sig ? "zz" + sig.substr(2) : upper}}) {
    Query q{{"expires", exp}, {"signature", s}};
    Status st = signer_.Verify("GET", url_.path, q, clock_.Now());
    EXPECT_EQ(st.code(), Code::kPermissionDenied) << exp << " " << s;
    EXPECT_EQ(ReasonOf(st), "malformed_parameters") << exp << " " << s;
  }
}

TEST_F(UrlSignerTest, AnotherServerKeyDoesNotVerify) {
  UrlSigner other(std::string(32, 'x'));
  Status st = other.Verify("GET", url_.path, url_.query, clock_.Now());
  EXPECT_EQ(ReasonOf(st), "bad_signature");
}

class KeyFileTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_{"outpost-signer"};
  const std::string dir_ = tmp_.path();
};

TEST_F(KeyFileTest, CreatedOnFirstStartWithMode0600And32Bytes) {
  ASSERT_OK(UrlSigner::LoadOrCreate(dir_));
  struct stat st;
  ASSERT_EQ(::stat(UrlSigner::KeyFilePath(dir_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, 32);
}

TEST_F(KeyFileTest, KeyPersistsAcrossRestarts) {
  auto first = UrlSigner::LoadOrCreate(dir_);
  auto second = UrlSigner::LoadOrCreate(dir_);
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(first->Signature("GET", "/files/a", 1), second->Signature("GET", "/files/a", 1));
  // ... and differs between data dirs (random).
  ASSERT_EQ(::mkdir((dir_ + "/other").c_str(), 0700), 0);
  auto third = UrlSigner::LoadOrCreate(dir_ + "/other");
  ASSERT_OK(third);
  EXPECT_NE(first->Signature("GET", "/files/a", 1), third->Signature("GET", "/files/a", 1));
}

TEST_F(KeyFileTest, LooserModeIsRefused) {
  ASSERT_OK(UrlSigner::LoadOrCreate(dir_));
  const std::string path = UrlSigner::KeyFilePath(dir_);
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    EXPECT_THAT(UrlSigner::LoadOrCreate(dir_),
                StatusIs(Code::kFailedPrecondition, HasSubstr("chmod 600")))
        << std::oct << mode;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);  // tighter is fine
  EXPECT_OK(UrlSigner::LoadOrCreate(dir_));
}

TEST_F(KeyFileTest, TruncatedKeyIsRefusedNotReplaced) {
  const std::string path = UrlSigner::KeyFilePath(dir_);
  ASSERT_OK(WriteFileAtomic(path, "short", 0600));
  EXPECT_THAT(UrlSigner::LoadOrCreate(dir_), StatusIs(Code::kFailedPrecondition));
  EXPECT_EQ(ReadFile(path).value(), "short");
}

TEST_F(KeyFileTest, SymlinkIsRefused) {
  ASSERT_OK(WriteFileAtomic(dir_ + "/elsewhere", std::string(32, 'k'), 0600));
  ASSERT_EQ(::symlink((dir_ + "/elsewhere").c_str(), UrlSigner::KeyFilePath(dir_).c_str()), 0);
  EXPECT_THAT(UrlSigner::LoadOrCreate(dir_), StatusIs(Code::kFailedPrecondition));
}

TEST_F(KeyFileTest, MissingDataDirIsAnError) {
  EXPECT_THAT(UrlSigner::LoadOrCreate(dir_ + "/nope"), StatusIs(Code::kInternal));
}

}  // namespace
}  // namespace outpost::artifacts
