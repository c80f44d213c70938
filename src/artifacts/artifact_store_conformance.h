// ArtifactStoreConformance: the ArtifactStore contract (artifact_store.h) as one
// value-parameterised gtest suite that every backend runs. A backend's test provides an
// ArtifactBackend: a name, a factory whose every call returns a fresh, empty store together with
// whatever serves its URLs, and (optionally) how to fetch a URL:
//
//   ArtifactStoreUnderTest NewLocalStore() {...}
//   INSTANTIATE_TEST_SUITE_P(Local, ArtifactStoreConformance,
//                            ::testing::Values(ArtifactBackend{"local", &NewLocalStore}),
//                            ArtifactBackendName);
//
// Presigned URLs are fetched for real: by default with a plain HTTP/1.1 GET (HttpGetUrl) of the
// URL exactly as PresignGet returned it. The header defines tests: include it from exactly one
// .cc per test binary, which links outpost_net (for the HTTP client).
//
// The suite's reading of what the header leaves open: PutFile of a missing source file is
// kNotFound; PresignGet of a missing key succeeds and its URL answers 404; an expiry <= 0 is
// kInvalidArgument.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/artifact_store.h"
#include "common/byte_source.h"
#include "common/crypto.h"
#include "net/http_transport.h"
#include "testing/temp_dir.h"

namespace outpost::artifacts {

struct FetchedUrl {
  int status = 0;
  std::string content_type;
  std::string body;
};
using UrlFetcher = std::function<Result<FetchedUrl>(const std::string& url)>;

// A plain GET of an absolute "http://host:port/target" URL, target sent verbatim (a signed
// URL's query included: net::ParseUrl takes no query, so it is appended to the path as is).
inline Result<FetchedUrl> HttpGetUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return InvalidArgument("not an http:// URL: " + url);
  const std::size_t slash = url.find('/', kScheme.size());
  auto origin = net::ParseUrl(url.substr(0, slash));
  if (!origin.ok()) return origin.status();
  net::HttpRequest request;
  request.method = "GET";
  request.url = std::move(*origin);
  request.url.path = slash == std::string::npos ? "/" : url.substr(slash);
  auto res = net::SendHttp(request, {});
  if (!res.ok()) return res.status();
  return FetchedUrl{res->status, res->Header("Content-Type"), std::move(res->body)};
}

// One backend under test. `keep_alive` (e.g. the HTTP server that serves local URLs) is
// destroyed before `store`.
struct ArtifactStoreUnderTest {
  std::unique_ptr<ArtifactStore> store;
  std::shared_ptr<void> keep_alive;
};

struct ArtifactBackend {
  std::string name;
  std::function<ArtifactStoreUnderTest()> make;
  UrlFetcher fetch = HttpGetUrl;
};

inline void PrintTo(const ArtifactBackend& b, std::ostream* os) { *os << b.name; }
inline std::string ArtifactBackendName(const ::testing::TestParamInfo<ArtifactBackend>& info) {
  return info.param.name;
}

class ArtifactStoreConformance : public ::testing::TestWithParam<ArtifactBackend> {
 protected:
  void SetUp() override {
    under_test_ = GetParam().make();
    ASSERT_NE(under_test_.store, nullptr);
  }
  void TearDown() override {
    under_test_.keep_alive.reset();
    under_test_.store.reset();
  }

  ArtifactStore& store() { return *under_test_.store; }

  static std::string RandomBytes(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
      std::uint64_t v = rng();
      for (std::size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(v >> (8 * j));
    }
    return out;
  }

  std::string WriteSource(const std::string& name, const std::string& content) {
    std::string path = src_dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  void MustPut(const std::string& key, const std::string& content,
               const std::string& type = "text/plain") {
    Status st = store().Put(key, content, type);
    ASSERT_TRUE(st.ok()) << key << ": " << st.ToString();
  }

  // Presigns `key` for an hour and fetches it.
  FetchedUrl FetchPresigned(const std::string& key) {
    auto url =
        store().PresignGet(key, std::chrono::seconds(3600), std::chrono::system_clock::now());
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    if (!url.ok()) return {};
    auto fetched = GetParam().fetch(*url);
    EXPECT_TRUE(fetched.ok()) << *url << ": " << fetched.status().ToString();
    return fetched.ok() ? *fetched : FetchedUrl{};
  }

  static std::vector<std::string> KeysOf(const std::vector<ObjectInfo>& infos) {
    std::vector<std::string> keys;
    for (const ObjectInfo& i : infos) keys.push_back(i.key);
    return keys;
  }

  ArtifactStoreUnderTest under_test_;
  outpost::testing::TempDir src_tmp_{"outpost-artifacts-src"};
  std::string src_dir_ = src_tmp_.path();
};

TEST_P(ArtifactStoreConformance, PutThenGetAndHead) {
  const std::string content = "hello, artifacts\n";
  MustPut("dispatches/01RUN/output.log", content, "text/plain; charset=utf-8");
  auto got = store().Get("dispatches/01RUN/output.log");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, content);
  auto head = store().Head("dispatches/01RUN/output.log");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->key, "dispatches/01RUN/output.log");
  EXPECT_EQ(head->size_bytes, static_cast<std::int64_t>(content.size()));
  EXPECT_EQ(head->sha256, Sha256Hex(content));
  EXPECT_EQ(head->content_type, "text/plain; charset=utf-8");
  const auto age = std::chrono::system_clock::now() - head->modified;
  EXPECT_LT(std::chrono::abs(age), std::chrono::hours(1)) << "modified is not about now";
}

TEST_P(ArtifactStoreConformance, PutReplacesTheWholeObject) {
  MustPut("k/obj", std::string(100'000, 'a'), "text/plain");
  MustPut("k/obj", "{}", "application/json");
  EXPECT_EQ(store().Get("k/obj").value(), "{}");
  auto head = store().Head("k/obj");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size_bytes, 2);
  EXPECT_EQ(head->sha256, Sha256Hex("{}"));
  EXPECT_EQ(head->content_type, "application/json");
}

TEST_P(ArtifactStoreConformance, BinaryContentWithNulsRoundTrips) {
  std::string content;
  for (int i = 0; i < 4; ++i) {
    for (int b = 0; b < 256; ++b) content += static_cast<char>(b);
  }
  content += std::string(3, '\0');
  MustPut("bin/all-bytes.bin", content, "application/octet-stream");
  EXPECT_EQ(store().Get("bin/all-bytes.bin").value(), content);
  EXPECT_EQ(store().Head("bin/all-bytes.bin")->size_bytes, 1027);
  FetchedUrl f = FetchPresigned("bin/all-bytes.bin");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body, content);
}

TEST_P(ArtifactStoreConformance, EmptyObject) {
  MustPut("empty.txt", "", "text/plain");
  EXPECT_EQ(store().Get("empty.txt").value(), "");
  auto head = store().Head("empty.txt");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size_bytes, 0);
  EXPECT_EQ(head->sha256, Sha256Hex(""));
}

// 20 MiB: above the S3 backend's 8 MiB multipart threshold, so more than two parts.
TEST_P(ArtifactStoreConformance, PutFileOfALargeFile) {
  const std::string content = RandomBytes(20 << 20, 42);
  const std::string path = WriteSource("big.bundle", content);
  Status st = store().PutFile("dispatches/01RUN/repo.bundle", path, "application/x-git-bundle");
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto head = store().Head("dispatches/01RUN/repo.bundle");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size_bytes, 20 << 20);
  EXPECT_EQ(head->sha256, Sha256Hex(content));
  EXPECT_EQ(head->content_type, "application/x-git-bundle");
  auto got = store().Get("dispatches/01RUN/repo.bundle");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == content) << "20 MiB object differs";
  FetchedUrl f = FetchPresigned("dispatches/01RUN/repo.bundle");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body.size(), content.size());
  EXPECT_TRUE(f.body == content) << "20 MiB URL body differs";
}

// A byte source (what a runner hands over: RunOutputs::OpenOutput), above the multipart
// threshold and small; only its size() is stored, not what its file grew to after the open.
TEST_P(ArtifactStoreConformance, PutSourceStreamsALargeSourceAndASmallOne) {
  const std::string content = RandomBytes(20 << 20, 7);
  const std::string path = WriteSource("big.log", content);
  auto source = OpenFileSource(path);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  {
    std::ofstream grow(path, std::ios::app | std::ios::binary);
    grow << "appended after the open";
  }
  Status st = store().PutSource("dispatches/01RUN/output.log", **source, "text/plain");
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto head = store().Head("dispatches/01RUN/output.log");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size_bytes, 20 << 20);
  EXPECT_EQ(head->sha256, Sha256Hex(content));
  auto got = store().Get("dispatches/01RUN/output.log");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == content) << "20 MiB object differs";
  auto small = StringSource("--- a\n+++ b\n");
  ASSERT_TRUE(store().PutSource("d/diff.patch", *small, "text/x-diff").ok());
  EXPECT_EQ(store().Get("d/diff.patch").value(), "--- a\n+++ b\n");
  EXPECT_EQ(store().PutSource("../bad", *small, "text/plain").code(), Code::kInvalidArgument);
}

TEST_P(ArtifactStoreConformance, PutFileOfASmallFileAndOfAMissingOne) {
  const std::string path = WriteSource("diff.patch", "--- a\n+++ b\n");
  ASSERT_TRUE(store().PutFile("d/diff.patch", path, "text/x-diff").ok());
  EXPECT_EQ(store().Get("d/diff.patch").value(), "--- a\n+++ b\n");
  Status st = store().PutFile("d/other", src_dir_ + "/does-not-exist", "text/plain");
  EXPECT_EQ(st.code(), Code::kNotFound) << st.ToString();
  EXPECT_EQ(store().Head("d/other").status().code(), Code::kNotFound);
}

TEST_P(ArtifactStoreConformance, GetAndHeadOfAMissingKeyAreNotFound) {
  EXPECT_EQ(store().Get("nope/missing.txt").status().code(), Code::kNotFound);
  EXPECT_EQ(store().Head("nope/missing.txt").status().code(), Code::kNotFound);
  MustPut("there/a.txt", "a");
  EXPECT_EQ(store().Get("there/b.txt").status().code(), Code::kNotFound);
}

TEST_P(ArtifactStoreConformance, DeleteIsIdempotent) {
  MustPut("del/x.txt", "x");
  EXPECT_TRUE(store().Delete("del/x.txt").ok());
  EXPECT_EQ(store().Get("del/x.txt").status().code(), Code::kNotFound);
  EXPECT_TRUE(store().Delete("del/x.txt").ok());
  EXPECT_TRUE(store().Delete("never/was.txt").ok());
  EXPECT_TRUE(KeysOf(store().List("del/").value()).empty());
}

TEST_P(ArtifactStoreConformance, ListReturnsKeysUnderThePrefixSorted) {
  MustPut("dispatches/a/summary.json", "{}", "application/json");
  MustPut("dispatches/a/output.log", "out");
  MustPut("dispatches/a/deeper/events.jsonl", "e");
  MustPut("dispatches/ab/output.log", "sibling");
  MustPut("other/x", "x");
  auto listed = store().List("dispatches/a/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(KeysOf(*listed),
            (std::vector<std::string>{"dispatches/a/deeper/events.jsonl", "dispatches/a/output.log",
                                      "dispatches/a/summary.json"}));
  // A prefix is a string prefix, not a directory: "dispatches/a" also covers "dispatches/ab".
  EXPECT_EQ(KeysOf(store().List("dispatches/a").value()),
            (std::vector<std::string>{"dispatches/a/deeper/events.jsonl", "dispatches/a/output.log",
                                      "dispatches/a/summary.json", "dispatches/ab/output.log"}));
  EXPECT_EQ(KeysOf(store().List("dispatches/ab/").value()),
            (std::vector<std::string>{"dispatches/ab/output.log"}));
  EXPECT_EQ(store().List("").value().size(), 5u);
  EXPECT_TRUE(store().List("dispatches/zz/").value().empty());
  EXPECT_TRUE(store().List("nothing-here/").value().empty());
}

TEST_P(ArtifactStoreConformance, ListReportsSizeShaAndContentType) {
  MustPut("meta/s.json", "{\"a\":1}", "application/json");
  auto listed = store().List("meta/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  const ObjectInfo& info = listed->front();
  EXPECT_EQ(info.key, "meta/s.json");
  EXPECT_EQ(info.size_bytes, 7);
  EXPECT_EQ(info.sha256, Sha256Hex("{\"a\":1}"));
  EXPECT_EQ(info.content_type, "application/json");
}

// More keys than one S3 ListObjectsV2 page (1000). Written from several threads to stay cheap.
TEST_P(ArtifactStoreConformance, ListReturnsEveryPage) {
  constexpr int kObjects = 1005, kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kObjects; i += kThreads) {
        char key[32];
        std::snprintf(key, sizeof key, "many/%05d.txt", i);
        if (!store().Put(key, std::to_string(i), "text/plain").ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  MustPut("manyx/after", "not listed");
  auto listed = store().List("many/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), static_cast<std::size_t>(kObjects));
  EXPECT_EQ(listed->front().key, "many/00000.txt");
  EXPECT_EQ(listed->back().key, "many/01004.txt");
  EXPECT_TRUE(
      std::is_sorted(listed->begin(), listed->end(),
                     [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }));
}

TEST_P(ArtifactStoreConformance, BadKeysAreRejectedByEveryOperation) {
  const std::string path = WriteSource("f", "f");
  const auto now = std::chrono::system_clock::now();
  for (const std::string& key :
       {std::string(""), std::string("../escape"), std::string("a/../../b"), std::string("/abs"),
        std::string("a//b"), std::string("a/"), std::string("sp ace"), std::string("semi;colon"),
        std::string("q?x"), std::string("pct%2e"), std::string(513, 'k')}) {
    SCOPED_TRACE("key '" + key.substr(0, 40) + "'");
    EXPECT_EQ(store().Put(key, "x", "text/plain").code(), Code::kInvalidArgument);
    EXPECT_EQ(store().PutFile(key, path, "text/plain").code(), Code::kInvalidArgument);
    EXPECT_EQ(store().Get(key).status().code(), Code::kInvalidArgument);
    EXPECT_EQ(store().Head(key).status().code(), Code::kInvalidArgument);
    EXPECT_EQ(store().Delete(key).code(), Code::kInvalidArgument);
    EXPECT_EQ(store().PresignGet(key, std::chrono::seconds(60), now).status().code(),
              Code::kInvalidArgument);
  }
}

TEST_P(ArtifactStoreConformance, KeyOf512BytesIsAccepted) {
  // Three segments, each within every filesystem's 255-byte name limit.
  const std::string key =
      std::string(200, 'a') + "/" + std::string(200, 'b') + "/" + std::string(110, 'c');
  ASSERT_EQ(key.size(), 512u);
  MustPut(key, "long");
  EXPECT_EQ(store().Get(key).value(), "long");
}

TEST_P(ArtifactStoreConformance, PresignedUrlServesTheExactBytesAndContentType) {
  const std::string content = "{\"status\":\"COMPLETED\"}\n";
  MustPut("dispatches/01RUN/summary.json", content, "application/json");
  FetchedUrl f = FetchPresigned("dispatches/01RUN/summary.json");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.body, content);
  EXPECT_EQ(f.content_type, "application/json");
}

TEST_P(ArtifactStoreConformance, PresignedUrlIsAbsoluteAndNamesTheKey) {
  auto url = store().PresignGet("dispatches/01RUN/output.log", std::chrono::seconds(60),
                                std::chrono::system_clock::now());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_TRUE(url->starts_with("http://") || url->starts_with("https://")) << *url;
  EXPECT_NE(url->find("dispatches/01RUN/output.log"), std::string::npos) << *url;
}

TEST_P(ArtifactStoreConformance, PresignedUrlOfAMissingObjectIsNotFound) {
  FetchedUrl f = FetchPresigned("dispatches/none/output.log");
  EXPECT_EQ(f.status, 404);
}

// Signed two hours ago for one minute: refused now. (No sleeping: the signing time is passed.)
TEST_P(ArtifactStoreConformance, ExpiredPresignedUrlIsRefused) {
  MustPut("exp/output.log", "secret output");
  auto url = store().PresignGet("exp/output.log", std::chrono::seconds(60),
                                std::chrono::system_clock::now() - std::chrono::hours(2));
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto fetched = GetParam().fetch(*url);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->status, 403);
  EXPECT_EQ(fetched->body.find("secret output"), std::string::npos);
}

TEST_P(ArtifactStoreConformance, NonPositiveExpiryIsInvalid) {
  auto url = store().PresignGet("a", std::chrono::seconds(0), std::chrono::system_clock::now());
  EXPECT_EQ(url.status().code(), Code::kInvalidArgument);
}

// Writers race on one key while a reader keeps reading it: every read and the final object is
// exactly one writer's whole content, and Head's sha256 matches what Get returns.
TEST_P(ArtifactStoreConformance, ConcurrentPutsOfOneKeyLeaveOneWholeVersion) {
  constexpr int kWriters = 6, kPutsEach = 3;
  constexpr std::size_t kSize = 256 << 10;
  auto version = [](int w) { return std::string(kSize, static_cast<char>('A' + w)); };
  auto whole = [&](const std::string& got) {
    return got.size() == kSize && got.find_first_not_of(got.front()) == std::string::npos;
  };
  MustPut("race/obj", version(0));
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, write_failures{0};
  std::thread reader([&] {
    while (!done) {
      auto got = store().Get("race/obj");
      if (got.ok() && !whole(*got)) ++torn;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPutsEach; ++i) {
        if (!store().Put("race/obj", version(w), "text/plain").ok()) ++write_failures;
      }
    });
  }
  for (auto& th : writers) th.join();
  done = true;
  reader.join();
  EXPECT_EQ(write_failures.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  auto got = store().Get("race/obj");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(whole(*got));
  EXPECT_EQ(store().Head("race/obj")->sha256, Sha256Hex(*got));
}

TEST_P(ArtifactStoreConformance, DescribeNamesTheBackend) {
  const std::string d = store().Describe();
  EXPECT_NE(d.find("://"), std::string::npos) << d;
}

}  // namespace outpost::artifacts
