// The backend is a thin mapping: validate the key, add the prefix, call S3Client (which owns
// retries and the translation of S3's errors), strip the prefix from what comes back.
#include "artifacts/s3/s3_artifact_store.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "aws/http.h"

namespace outpost::artifacts {
namespace {

constexpr std::size_t kParallelHeads = 8;

// List prefixes are partial keys ("dispatches/01J", "dispatches/01J/").
Status ValidatePrefix(std::string_view prefix) {
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  if (prefix.empty()) return Status::Ok();
  if (Status st = ValidateKey(prefix); !st.ok()) {
    return InvalidArgument("invalid list prefix: " + st.message());
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ArtifactStore>> OpenS3ArtifactStore(std::string_view url,
                                                           const aws::EnvMap& env,
                                                           const Clock& clock,
                                                           S3ArtifactStoreOptions options) {
  auto location = ParseS3Url(url, env);
  if (!location.ok()) return location.status();
  auto credentials = aws::ResolveCredentials(env);
  if (!credentials.ok()) {
    return Status(credentials.status().code(),
                  "artifacts " + location->ToUrl() + ": " + credentials.status().message());
  }
  aws::S3ClientOptions o;
  o.region = location->region;
  o.endpoint = location->endpoint;
  o.path_style = location->path_style;
  o.credentials = *credentials;
  o.retry = options.retry;
  net::HttpSender sender = options.sender ? options.sender : aws::MakeHttpSender(env);
  auto client = aws::S3Client::Create(o, std::move(sender), clock);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ArtifactStore>(
      new S3ArtifactStore(std::move(*location), std::move(client).value()));
}

S3ArtifactStore::S3ArtifactStore(S3Location location, std::unique_ptr<aws::S3Client> client)
    : location_(std::move(location)), client_(std::move(client)) {}

Status S3ArtifactStore::Put(std::string_view key, std::string_view content,
                            std::string_view content_type) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  aws::S3PutOptions o;
  o.content_type = std::string(content_type);
  return client_->PutObject(location_.bucket, ObjectKey(key), content, o);
}

Status S3ArtifactStore::PutFile(std::string_view key, const std::string& path,
                                std::string_view content_type) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  aws::S3PutOptions o;
  o.content_type = std::string(content_type);
  return client_->PutObjectFromFile(location_.bucket, ObjectKey(key), path, o);
}

Status S3ArtifactStore::PutSource(std::string_view key, ByteSource& source,
                                  std::string_view content_type) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  aws::S3PutOptions o;
  o.content_type = std::string(content_type);
  return client_->PutObjectFromSource(location_.bucket, ObjectKey(key), source, o);
}

Result<std::string> S3ArtifactStore::Get(std::string_view key) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  return client_->GetObject(location_.bucket, ObjectKey(key));
}

Result<ObjectInfo> S3ArtifactStore::HeadFull(const std::string& object_key) const {
  auto head = client_->HeadObject(location_.bucket, object_key);
  if (!head.ok()) return head.status();
  ObjectInfo info;
  info.key = object_key.substr(location_.prefix.size());
  info.size_bytes = head->size;
  info.sha256 = head->sha256;
  info.content_type = head->content_type;
  info.modified = head->last_modified;
  return info;
}

Result<ObjectInfo> S3ArtifactStore::Head(std::string_view key) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  return HeadFull(ObjectKey(key));
}

Result<std::vector<ObjectInfo>> S3ArtifactStore::List(std::string_view prefix) {
  OUTPOST_RETURN_IF_ERROR(ValidatePrefix(prefix));
  auto listed = client_->ListObjects(location_.bucket, ObjectKey(prefix));
  if (!listed.ok()) return listed.status();
  // HeadObject per key, kParallelHeads at a time: S3 latency, not bandwidth, is the cost.
  const std::size_t n = listed->size();
  std::vector<std::optional<ObjectInfo>> infos(n);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  Status failure;  // guarded by mu
  auto worker = [&] {
    for (std::size_t i; (i = next++) < n;) {
      auto info = HeadFull((*listed)[i].key);
      if (info.ok()) {
        infos[i] = std::move(*info);
      } else if (info.status().code() != Code::kNotFound) {  // deleted since listed: skip
        std::lock_guard lock(mu);
        if (failure.ok()) failure = info.status();
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < std::min(n, kParallelHeads); ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (!failure.ok()) return failure;
  std::vector<ObjectInfo> out;
  for (auto& i : infos) {
    if (i) out.push_back(std::move(*i));
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3ArtifactStore::Delete(std::string_view key) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  return client_->DeleteObject(location_.bucket, ObjectKey(key));
}

Result<std::string> S3ArtifactStore::PresignGet(std::string_view key, std::chrono::seconds expires,
                                                WallTime now) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  return client_->PresignGet(location_.bucket, ObjectKey(key), expires, now);
}

}  // namespace outpost::artifacts
