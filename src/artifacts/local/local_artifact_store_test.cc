// The local backend: the conformance suite through a real HTTP server serving its signed URLs
// (api/file_routes.h), and what is particular to files on disk.
#include "artifacts/local/local_artifact_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "api/file_routes.h"
#include "artifacts/artifact_store_conformance.h"
#include "common/files.h"
#include "http/http_server.h"
#include "testing/temp_dir.h"

namespace outpost::artifacts {
namespace {

namespace fs = std::filesystem;

// The server's base URL, set once it has bound port 0.
struct BaseUrl {
  std::mutex mu;
  std::string url;  // guarded by mu
  std::string Get() {
    std::lock_guard lock(mu);
    return url;
  }
};

// A store in a fresh temp dir, its URLs served by an in-process HttpServer on 127.0.0.1:0.
struct LocalServer {
  outpost::testing::TempDir tmp{"outpost-artifacts"};
  std::string dir = tmp.path();
  http::Router router;
  std::unique_ptr<http::HttpServer> server;
  ~LocalServer() {
    if (server) server->Stop();
  }
};

ArtifactStoreUnderTest NewLocalStore() {
  auto serving = std::make_shared<LocalServer>();
  auto signer = UrlSigner::LoadOrCreate(serving->dir);
  if (!signer.ok()) throw std::runtime_error(signer.status().ToString());
  auto base = std::make_shared<BaseUrl>();
  auto store = LocalArtifactStore::Open(serving->dir + "/artifacts", *signer,
                                        [base] { return base->Get(); }, {.durable = false});
  if (!store.ok()) throw std::runtime_error(store.status().ToString());
  api::RegisterFileRoutes(serving->router, **store, RealClock::Instance());
  http::HttpServerOptions opts;
  opts.port = 0;
  serving->server = std::make_unique<http::HttpServer>(serving->router, opts);
  if (Status st = serving->server->Start(); !st.ok()) throw std::runtime_error(st.ToString());
  {
    std::lock_guard lock(base->mu);
    base->url = "http://" + serving->server->BoundAddress();
  }
  return {std::move(*store), serving};
}

INSTANTIATE_TEST_SUITE_P(Local, ArtifactStoreConformance,
                         ::testing::Values(ArtifactBackend{"local", &NewLocalStore}),
                         ArtifactBackendName);

// ---- What is particular to the local backend ------------------------------------------------

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ + "/artifacts";
    auto store = LocalArtifactStore::Open(root_, signer_, [this] { return base_; });
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  static int ModeOf(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
  }

  outpost::testing::TempDir tmp_{"outpost-artifacts"};
  std::string dir_ = tmp_.path(), root_, base_ = "http://127.0.0.1:9";
  UrlSigner signer_{std::string(32, 's')};
  std::unique_ptr<LocalArtifactStore> store_;
};

TEST_F(LocalArtifactStoreTest, ObjectIsAFileUnderTheRootWithAHiddenSidecar) {
  ASSERT_TRUE(store_->Put("dispatches/r1/output.log", "out", "text/plain").ok());
  EXPECT_EQ(ReadFile(root_ + "/dispatches/r1/output.log").value(), "out");
  std::string sidecar = ReadFile(root_ + "/@meta/dispatches/r1/output.log").value();
  EXPECT_NE(sidecar.find("\"contentType\":\"text/plain\""), std::string::npos) << sidecar;
  EXPECT_EQ(ModeOf(root_), 0700);
  EXPECT_EQ(ModeOf(root_ + "/dispatches/r1/output.log"), 0600);
  auto all = store_->List("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().key, "dispatches/r1/output.log");
}

TEST_F(LocalArtifactStoreTest, DeleteRemovesTheSidecarToo) {
  ASSERT_TRUE(store_->Put("a/b", "x", "text/plain").ok());
  ASSERT_TRUE(store_->Delete("a/b").ok());
  EXPECT_FALSE(FileExists(root_ + "/a/b"));
  EXPECT_FALSE(FileExists(root_ + "/@meta/a/b"));
}

TEST_F(LocalArtifactStoreTest, StaleSidecarIsIgnoredAndTheShaRecomputed) {
  ASSERT_TRUE(store_->Put("k", "original", "application/json").ok());
  // What a crash between the data and sidecar renames (or a hand edit) leaves behind.
  ASSERT_TRUE(WriteFileAtomic(root_ + "/k", "replaced by hand", 0600).ok());
  auto head = store_->Head("k");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sha256, Sha256Hex("replaced by hand"));
  EXPECT_EQ(head->size_bytes, 16);
  EXPECT_EQ(head->content_type, "application/octet-stream");
}

TEST_F(LocalArtifactStoreTest, ObjectWithoutSidecarIsServedAsOctetStream) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/dropped.bin", "abc", 0600).ok());
  auto head = store_->Head("dropped.bin");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->sha256, Sha256Hex("abc"));
}

TEST_F(LocalArtifactStoreTest, TempFilesOddNamesAndSymlinksAreNeitherListedNorFollowed) {
  ASSERT_TRUE(store_->Put("d/real", "r", "text/plain").ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/d/@tmp-abcdef", "partial", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/d/not a key", "dropped by hand", 0600).ok());
  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/d/evil").c_str()), 0);
  EXPECT_EQ(store_->Get("d/evil").status().code(), Code::kNotFound);
  auto listed = store_->List("d/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().key, "d/real");
}

// A directory link planted below the root (by hand, or by anything that could write there) is
// no way out of it: not for reading, writing, deleting or the sidecar.
TEST_F(LocalArtifactStoreTest, PlantedDirectoryLinksAreNeverFollowed) {
  const std::string outside = dir_ + "/outside";
  ASSERT_TRUE(MakeDirs(outside, 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(outside + "/secret", "top secret", 0600).ok());
  ASSERT_EQ(::symlink(outside.c_str(), (root_ + "/dispatches").c_str()), 0);

  EXPECT_EQ(store_->Get("dispatches/secret").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Head("dispatches/secret").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Put("dispatches/r1/output.log", "x", "text/plain").code(),
            Code::kFailedPrecondition);
  EXPECT_FALSE(FileExists(outside + "/r1"));
  EXPECT_TRUE(store_->Delete("dispatches/secret").ok());  // nothing of ours there
  EXPECT_EQ(ReadFile(outside + "/secret").value(), "top secret");
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  // A link in the sidecar tree: the sidecar is ignored, never read through it.
  ASSERT_TRUE(store_->Put("k/v", "value", "text/plain").ok());
  fs::remove_all(root_ + "/@meta/k");
  ASSERT_EQ(::symlink(outside.c_str(), (root_ + "/@meta/k").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(outside + "/v", "not a sidecar", 0600).ok());
  auto head = store_->Head("k/v");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->content_type, "application/octet-stream");
  EXPECT_EQ(head->sha256, Sha256Hex("value"));
  EXPECT_EQ(store_->Put("k/w", "w", "text/plain").code(), Code::kFailedPrecondition);
  EXPECT_FALSE(FileExists(outside + "/w"));
}

TEST_F(LocalArtifactStoreTest, OversizedOrSpecialSidecarsAreIgnored) {
  ASSERT_TRUE(store_->Put("big", "data", "text/plain").ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/@meta/big", std::string(1 << 20, '{'), 0600).ok());
  auto head = store_->Head("big");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->sha256, Sha256Hex("data"));
  ASSERT_TRUE(store_->Put("fifo", "data", "text/plain").ok());
  ASSERT_EQ(::unlink((root_ + "/@meta/fifo").c_str()), 0);
  ASSERT_EQ(::mkfifo((root_ + "/@meta/fifo").c_str(), 0600), 0);
  auto fifo = store_->Head("fifo");  // returns: a FIFO is not waited on
  ASSERT_TRUE(fifo.ok()) << fifo.status().ToString();
  EXPECT_EQ(fifo->content_type, "application/octet-stream");
}

TEST_F(LocalArtifactStoreTest, AKeyCannotBeBothAnObjectAndAPrefix) {
  ASSERT_TRUE(store_->Put("a/b", "x", "text/plain").ok());
  EXPECT_EQ(store_->Put("a", "y", "text/plain").code(), Code::kFailedPrecondition);
  EXPECT_EQ(store_->Get("a").status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->Delete("a").ok());
  EXPECT_EQ(store_->Get("a/b").value(), "x");
  ASSERT_TRUE(store_->Put("c", "x", "text/plain").ok());
  EXPECT_EQ(store_->Put("c/d", "y", "text/plain").code(), Code::kFailedPrecondition);
}

TEST_F(LocalArtifactStoreTest, SegmentLongerThanTheFilesystemAllowsIsInvalid) {
  Status st = store_->Put(std::string(300, 'x'), "x", "text/plain");
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
}

TEST_F(LocalArtifactStoreTest, ContentTypeIsCheckedAndDefaulted) {
  ASSERT_TRUE(store_->Put("t", "x", "").ok());
  EXPECT_EQ(store_->Head("t")->content_type, "application/octet-stream");
  EXPECT_EQ(store_->Put("t", "x", "text/html\r\nSet-Cookie: a=b").code(), Code::kInvalidArgument);
}

TEST_F(LocalArtifactStoreTest, ListPrefixIsValidated) {
  EXPECT_EQ(store_->List("../").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->List("/abs").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->List("a//").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->List("a b").status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(store_->Put("x/.hidden", "h", "text/plain").ok());
  EXPECT_EQ(store_->List("x/.").value().size(), 1u);
}

TEST_F(LocalArtifactStoreTest, PresignGetNeedsTheServersUrl) {
  auto url =
      store_->PresignGet("a/b", std::chrono::seconds(60), WallTime(std::chrono::seconds(100)));
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url, "http://127.0.0.1:9" +
                      signer_.SignedTarget("a/b", WallTime(std::chrono::seconds(160))));
  base_ = "";
  EXPECT_EQ(store_->PresignGet("a/b", std::chrono::seconds(60), WallTime()).status().code(),
            Code::kFailedPrecondition);
}

TEST(OpenLocalArtifactStore, AcceptsFileUrlsAndPlainPaths) {
  const outpost::testing::TempDir tmp("outpost-artifacts");
  const std::string& dir = tmp.path();
  UrlSigner signer(std::string(32, 'k'));
  for (const std::string& spec : {"file://" + dir + "/one", "file://localhost" + dir + "/two",
                                  dir + "/three/", dir + "/four/../four"}) {
    auto store = OpenLocalArtifactStore(spec, signer, nullptr);
    ASSERT_TRUE(store.ok()) << spec << ": " << store.status().ToString();
    EXPECT_TRUE((*store)->Describe().starts_with("file://" + dir + "/")) << (*store)->Describe();
    EXPECT_FALSE((*store)->Describe().ends_with("/")) << (*store)->Describe();
  }
  EXPECT_TRUE(fs::is_directory(dir + "/four/@meta"));
}

TEST(OpenLocalArtifactStore, RejectsOtherUrls) {
  UrlSigner signer(std::string(32, 'k'));
  for (const char* spec : {"", "s3://bucket/prefix", "file://otherhost/x", "file:relative",
                           "file:///x?y=1", "http://example.com/x"}) {
    EXPECT_EQ(OpenLocalArtifactStore(spec, signer, nullptr).status().code(), Code::kInvalidArgument)
        << spec;
  }
}

}  // namespace
}  // namespace outpost::artifacts
