// The DynamoDB event log with its chunk objects in a real artifact store (what OpenEventLog
// wires for a dynamodb:// store): the EventLog conformance suite on dynalite with every item a
// chunk object, in S3 (s3rver) and in the local store (files), and the objects' life.
#include "app/event_chunks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

#include "artifacts/local/local_artifact_store.h"
#include "artifacts/s3/s3_artifact_store.h"
#include "aws/http.h"
#include "aws/s3_client.h"
#include "aws/s3rver_fixture.h"
#include "store/dynamodb/dynamodb_event_log.h"
#include "store/dynamodb/dynamodb_test_env.h"
#include "store/event_log_conformance.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::app {
namespace {

using aws::testing::S3rver;
namespace env = dynamodb::testing_env;
constexpr const char* kBucket = "outpost-events";

S3rver& S3() {
  static S3rver server;  // stopped (by pid) at exit
  static const bool bucket = [] {
    if (!server.ok()) return false;
    aws::S3ClientOptions o;
    o.endpoint = server.endpoint();
    o.path_style = true;
    o.credentials = {S3rver::kAccessKey, S3rver::kSecretKey, ""};
    auto c = aws::S3Client::Create(o, aws::MakeHttpSender({}), RealClock::Instance());
    return c.ok() && (*c)->CreateBucket(kBucket).ok();
  }();
  (void)bucket;
  return server;
}

// The run store, the artifact store and the log, which borrows both.
class ChunkedLog final : public EventLog {
 public:
  Result<EventAppend> Append(std::string_view run, const std::vector<RunEvent>& events) override {
    return log->Append(run, events);
  }
  Result<EventBatch> Read(std::string_view run, std::int64_t after, int limit,
                          std::size_t max_bytes = 1 << 20) override {
    return log->Read(run, after, limit, max_bytes);
  }
  Result<EventLogTail> Tail(std::string_view run) override { return log->Tail(run); }
  Status Remove(std::string_view run) override { return log->Remove(run); }

  std::unique_ptr<dynamodb::DynamoDbRunStore> store;
  std::unique_ptr<artifacts::ArtifactStore> artifacts;
  std::unique_ptr<dynamodb::DynamoDbEventLog> log;
};

// The artifact store: S3 on s3rver, or local files under a fresh directory.
Result<std::unique_ptr<artifacts::ArtifactStore>> OpenArtifacts(bool local,
                                                                const std::string& prefix) {
  if (local) {
    static const outpost::testing::TempDir dir("outpost-event-chunks");
    return artifacts::OpenLocalArtifactStore(dir.path() + "/" + prefix,
                                             artifacts::UrlSigner(std::string(32, 'k')), nullptr);
  }
  return artifacts::OpenS3ArtifactStore(
      "s3://" + std::string(kBucket) + "/" + prefix +
          "?region=us-east-1&pathStyle=true&endpoint=" + S3().endpoint(),
      {{"AWS_ACCESS_KEY_ID", S3rver::kAccessKey},
       {"AWS_SECRET_ACCESS_KEY", S3rver::kSecretKey},
       {"HOME", "/nonexistent"}},
      RealClock::Instance());
}

std::unique_ptr<ChunkedLog> Open(std::size_t threshold, bool local = false) {
  if (!local && !S3().ok()) {
    ADD_FAILURE() << "s3rver: " << S3().error();
    return nullptr;
  }
  auto out = std::make_unique<ChunkedLog>();
  const std::string prefix = env::UniquePrefix();
  out->store = env::OpenStore(prefix, RealClock::Instance());
  if (!out->store) return nullptr;
  auto artifacts = OpenArtifacts(local, prefix);
  if (!artifacts.ok()) {
    ADD_FAILURE() << artifacts.status().ToString();
    return nullptr;
  }
  out->artifacts = std::move(*artifacts);
  dynamodb::DynamoDbEventLogOptions o;
  o.create_table = true;
  o.chunks = ArtifactEventChunks(*out->artifacts);
  o.chunk_threshold = threshold;
  auto log = dynamodb::DynamoDbEventLog::Open(*out->store, RealClock::Instance(), o);
  if (!log.ok()) {
    ADD_FAILURE() << log.status().ToString();
    return nullptr;
  }
  out->log = std::move(*log);
  return out;
}

std::unique_ptr<EventLog> NewS3ChunkedLog() { return Open(0); }
std::unique_ptr<EventLog> NewLocalChunkedLog() { return Open(0, true); }

INSTANTIATE_TEST_SUITE_P(DynaliteS3Chunks, EventLogConformance,
                         ::testing::Values(EventLogFactory(&NewS3ChunkedLog)));
INSTANTIATE_TEST_SUITE_P(DynaliteLocalChunks, EventLogConformance,
                         ::testing::Values(EventLogFactory(&NewLocalChunkedLog)));

RunEvent Output(std::int64_t seq, std::size_t size) {
  return {seq, "output",
          "{\"seq\":" + std::to_string(seq) + ",\"data\":\"" + std::string(size, 'q') + "\"}"};
}

TEST(EventChunks, LargeItemsAreS3ObjectsUnderTheRunAndGoWithIt) {
  auto log = Open(16 * 1024);
  ASSERT_NE(log, nullptr);
  ASSERT_OK(log->Append("01JRUN", {Output(1, 10)}));                         // inline
  ASSERT_OK(log->Append("01JRUN", {Output(2, 20'000), Output(3, 20'000)}));  // an object
  ASSERT_OK(log->Append("01JOTHER", {Output(1, 20'000)}));
  auto objects = log->artifacts->List("events/01JRUN/");
  ASSERT_OK(objects);
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_TRUE((*objects)[0].key.starts_with("events/01JRUN/2-3-")) << (*objects)[0].key;
  auto read = log->Read("01JRUN", 0, 10);
  ASSERT_OK(read);
  EXPECT_EQ(read->events,
            (std::vector<RunEvent>{Output(1, 10), Output(2, 20'000), Output(3, 20'000)}));
  // A tampered object is kInternal, never other events.
  ASSERT_OK(log->artifacts->Put((*objects)[0].key, "output\t{}\noutput\t{}\n", "text/plain"));
  EXPECT_THAT(log->Read("01JRUN", 1, 10),
              ::outpost::testing::StatusIs(Code::kInternal, ::testing::HasSubstr("sha256")));
  ASSERT_OK(log->Remove("01JRUN"));
  objects = log->artifacts->List("events/01JRUN/");
  ASSERT_OK(objects);
  EXPECT_TRUE(objects->empty());
  objects = log->artifacts->List("events/01JOTHER/");
  ASSERT_OK(objects);
  EXPECT_EQ(objects->size(), 1u);
}

}  // namespace
}  // namespace outpost::app
