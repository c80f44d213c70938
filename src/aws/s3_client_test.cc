// The S3 client against a real s3rver started by the test (failing, naming s3rver, when
// node_modules is absent). Requests are signed with the real clock: s3rver refuses a request time
// more than 15 minutes off.
#include "aws/s3_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "aws/http.h"
#include "aws/s3rver_fixture.h"

namespace outpost::aws {
namespace {

namespace fs = std::filesystem;
constexpr const char* kBucket = "outpost-test";

class S3ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::S3rver();
    if (server_->ok()) {
      auto c = Client(testing::S3rver::kAccessKey);
      ASSERT_TRUE(c->CreateBucket(kBucket).ok());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(server_->ok()) << server_->error();
    client_ = Client(testing::S3rver::kAccessKey);
  }

  // A client whose requests are counted in `requests_` (when given).
  static std::unique_ptr<S3Client> Client(const std::string& access_key,
                                          std::atomic<int>* requests = nullptr) {
    S3ClientOptions o;
    o.endpoint = server_->endpoint();
    o.path_style = true;
    o.credentials = {access_key, testing::S3rver::kSecretKey, ""};
    o.retry.base_delay = Millis(1);
    net::HttpSender real = MakeHttpSender({});
    net::HttpSender sender = [real, requests](const net::HttpRequest& r) {
      if (requests) ++*requests;
      return real(r);
    };
    return S3Client::Create(o, sender, RealClock::Instance()).value();
  }

  // Incompressible bytes, quickly (xorshift64, 8 bytes a step).
  static std::string Random(std::size_t n, std::uint64_t seed) {
    std::string s(n + 8, '\0');
    std::uint64_t x = seed | 1;
    for (std::size_t i = 0; i < n; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(&s[i], &x, 8);
    }
    s.resize(n);
    return s;
  }

  // A plain, unsigned HTTP GET of an absolute URL (what a browser or curl does).
  static Result<net::HttpResponse> PlainGet(const std::string& url) {
    auto q = url.find('?');
    auto base = net::ParseUrl(url.substr(0, q));
    if (!base.ok()) return base.status();
    net::HttpRequest r;
    r.method = "GET";
    r.url = *base;
    if (q != std::string::npos) r.url.path += url.substr(q);
    return net::SendHttp(r, {});
  }

  static testing::S3rver* server_;
  std::unique_ptr<S3Client> client_;
};
testing::S3rver* S3ClientTest::server_ = nullptr;

TEST_F(S3ClientTest, PutGetHeadRoundTripWithMetadataAndRanges) {
  S3PutOptions o;
  o.content_type = "text/plain; charset=utf-8";
  o.metadata["run"] = "01J";
  ASSERT_TRUE(client_->PutObject(kBucket, "rt/hello.txt", "hello world", o).ok());
  auto got = client_->GetObject(kBucket, "rt/hello.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello world");
  auto range = client_->GetObject(kBucket, "rt/hello.txt", ByteRange{6, 8});
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(*range, "wor");
  auto tail = client_->GetObject(kBucket, "rt/hello.txt", ByteRange{6, std::nullopt});
  EXPECT_EQ(*tail, "world");
  auto head = client_->HeadObject(kBucket, "rt/hello.txt");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 11);
  EXPECT_EQ(head->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(head->sha256, Sha256Hex("hello world"));
  EXPECT_EQ(head->metadata["run"], "01J");
  EXPECT_FALSE(head->etag.empty());
  auto age = std::chrono::system_clock::now() - head->last_modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(5));
}

TEST_F(S3ClientTest, AwkwardKeysRoundTrip) {
  for (std::string key :
       {"dir with spaces/file name.txt", "ünï/☃+plus=eq&amp.txt", "odd/!'()*~$@,;:[].bin"}) {
    ASSERT_TRUE(client_->PutObject(kBucket, "awk/" + key, key).ok()) << key;
    auto got = client_->GetObject(kBucket, "awk/" + key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, key);
  }
  auto list = client_->ListObjects(kBucket, "awk/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].key, "awk/dir with spaces/file name.txt");
}

TEST_F(S3ClientTest, MissingKeyIsNotFound) {
  EXPECT_EQ(client_->GetObject(kBucket, "nope/missing").status().code(), Code::kNotFound);
  EXPECT_EQ(client_->HeadObject(kBucket, "nope/missing").status().code(), Code::kNotFound);
}

TEST_F(S3ClientTest, ListReadsEveryPage) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(client_->PutObject(kBucket, "list/obj-" + std::to_string(i), "x").ok());
  }
  ASSERT_TRUE(client_->PutObject(kBucket, "listed-not/other", "x").ok());
  std::atomic<int> requests{0};
  auto counting = Client(testing::S3rver::kAccessKey, &requests);
  auto list = counting->ListObjects(kBucket, "list/", /*page_size=*/2);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 7u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ((*list)[static_cast<std::size_t>(i)].key, "list/obj-" + std::to_string(i));
    EXPECT_EQ((*list)[static_cast<std::size_t>(i)].size, 1);
  }
  EXPECT_EQ(requests.load(), 4);  // 2 + 2 + 2 + 1
}

TEST_F(S3ClientTest, LargeObjectsGoInPartsAndComeBackWhole) {
  const std::string content = Random(20 * 1024 * 1024 + 123, 7);
  std::atomic<int> requests{0};
  auto counting = Client(testing::S3rver::kAccessKey, &requests);
  ASSERT_TRUE(counting->PutObject(kBucket, "big/mem.bin", content).ok());
  EXPECT_EQ(requests.load(), 5);  // create + 3 parts (8 + 8 + 4 MiB) + complete
  auto got = client_->GetObject(kBucket, "big/mem.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == content);
  auto head = client_->HeadObject(kBucket, "big/mem.bin");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(head->sha256, Sha256Hex(content));

  char tmpl[] = "/tmp/outpost-s3file-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  // From a file (streamed: hashed first, then read part by part): 8 MiB + 1 MiB + 5 bytes.
  const std::string file_content = content.substr(0, 9 * 1024 * 1024 + 5);
  std::ofstream(tmpl, std::ios::binary) << file_content;
  requests = 0;
  Status st = counting->PutObjectFromFile(kBucket, "big/file.bin", tmpl);
  fs::remove(tmpl);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(requests.load(), 4);  // create + 2 parts + complete
  auto file = client_->GetObject(kBucket, "big/file.bin");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(*file == file_content);
  EXPECT_EQ(client_->HeadObject(kBucket, "big/file.bin")->sha256, Sha256Hex(file_content));
}

TEST_F(S3ClientTest, DeleteRemovesAndIsIdempotent) {
  ASSERT_TRUE(client_->PutObject(kBucket, "del/x", "x").ok());
  ASSERT_TRUE(client_->DeleteObject(kBucket, "del/x").ok());
  EXPECT_EQ(client_->HeadObject(kBucket, "del/x").status().code(), Code::kNotFound);
  EXPECT_TRUE(client_->DeleteObject(kBucket, "del/x").ok());
}

TEST_F(S3ClientTest, PresignedUrlServesAPlainGetUntilItExpires) {
  S3PutOptions o;
  o.content_type = "text/x-diff";
  ASSERT_TRUE(client_->PutObject(kBucket, "pre/diff patch.txt", "--- a\n+++ b\n", o).ok());
  auto url = client_->PresignGet(kBucket, "pre/diff patch.txt", std::chrono::seconds(300),
                                 std::chrono::system_clock::now());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto r = PlainGet(*url);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, "--- a\n+++ b\n");
  EXPECT_EQ(r->Header("Content-Type"), "text/x-diff");

  auto expired = client_->PresignGet(kBucket, "pre/diff patch.txt", std::chrono::seconds(60),
                                     std::chrono::system_clock::now() - std::chrono::hours(2));
  ASSERT_TRUE(expired.ok());
  auto refused = PlainGet(*expired);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->body.find("Request has expired"), std::string::npos) << refused->body;
}

TEST_F(S3ClientTest, UnknownBucketIsFailedPrecondition) {
  EXPECT_EQ(client_->GetObject("no-such-bucket", "k").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(client_->HeadObject("no-such-bucket", "k").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(client_->PutObject("no-such-bucket", "k", "v").code(), Code::kFailedPrecondition);
  EXPECT_EQ(client_->ListObjects("no-such-bucket", "").status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(client_->HeadBucket("no-such-bucket").code(), Code::kFailedPrecondition);
  EXPECT_TRUE(client_->HeadBucket(kBucket).ok());
}

TEST_F(S3ClientTest, WrongAccessKeyIsPermissionDenied) {
  auto wrong = Client("AKIAWRONGWRONGWRONG");
  auto got = wrong->GetObject(kBucket, "rt/hello.txt");
  EXPECT_EQ(got.status().code(), Code::kPermissionDenied);
  EXPECT_NE(got.status().message().find("InvalidAccessKeyId"), std::string::npos);
  EXPECT_EQ(wrong->PutObject(kBucket, "x", "y").code(), Code::kPermissionDenied);
}

TEST_F(S3ClientTest, SmallFilesGoInOnePut) {
  char tmpl[] = "/tmp/outpost-s3file-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl, std::ios::binary) << "small file";
  std::atomic<int> requests{0};
  Status st = Client(testing::S3rver::kAccessKey, &requests)
                  ->PutObjectFromFile(kBucket, "small/file.txt", tmpl);
  fs::remove(tmpl);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(requests.load(), 1);
  EXPECT_EQ(*client_->GetObject(kBucket, "small/file.txt"), "small file");
  EXPECT_EQ(client_->PutObjectFromFile(kBucket, "small/x", "/nonexistent/file").code(),
            Code::kNotFound);
}

TEST_F(S3ClientTest, CreatingABucketThatExistsIsAConflictOnS3rver) {
  // s3rver answers BucketAlreadyExists even to the owner; AWS answers BucketAlreadyOwnedByYou,
  // which CreateBucket treats as success (aws_test covers that with a fake server).
  EXPECT_EQ(client_->CreateBucket(kBucket).code(), Code::kConflict);
}

}  // namespace
}  // namespace outpost::aws
