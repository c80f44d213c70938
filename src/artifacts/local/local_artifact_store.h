// LocalArtifactStore: the default ArtifactStore, files under a root directory (by default
// <data_dir>/artifacts) served by `outpost serve` itself behind HMAC-signed expiring URLs
// (url_signer.h, api/file_routes.h).
//
// Layout (a '@' can never occur in a key, so none of these names collides with an object):
//   <root>/<key>          the object's bytes (mode 0600; the root is 0700)
//   <root>/@meta/<key>    its sidecar: sha256, content type, and the inode + size of the data
//                         file it describes (object_meta.h)
//   .../@tmp-XXXXXX       files being written; a crash may leave them (the sweeper removes them)
//   <root>/@lock          flock(2): writers hold it exclusively for the two renames that publish
//                         data + sidecar, readers share it while they open both, so a reader
//                         always gets a matching pair, also across processes.
// Put writes both files in full under temporary names first (fsync'd when `durable`): a reader
// sees the old object or the new one. A sidecar that does not match its data file (a crash
// between the two renames, or a file dropped in by hand) is ignored: the sha256 is recomputed
// and the type is application/octet-stream.
//
// Local limits beyond the key rules: a key cannot be both an object and a "directory" of others
// ("a" and "a/b": kFailedPrecondition), and a segment is at most 255 bytes (kInvalidArgument).
//
// Thread-safe; several processes may share a root.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "artifacts/artifact_store.h"
#include "artifacts/local/url_signer.h"

namespace outpost::artifacts {

// The server's own "http://host:port", known only after it has bound its port. Called on every
// PresignGet, from any thread; an empty answer makes PresignGet fail with kFailedPrecondition.
using BaseUrlProvider = std::function<std::string()>;

struct LocalArtifactStoreOptions {
  bool durable = true;  // fsync files and directories before a Put returns (tests turn it off)
};

// An object opened for reading: the data file stays readable as it was when opened even if a
// Put replaces it meanwhile. Move-only.
class LocalObject {
 public:
  LocalObject(int fd, ObjectInfo info) : fd_(fd), info_(std::move(info)) {}
  LocalObject(LocalObject&& other) noexcept;
  LocalObject& operator=(LocalObject&&) = delete;
  ~LocalObject();

  const ObjectInfo& info() const { return info_; }
  // Gives up the descriptor (the caller closes it).
  int Release() &&;
  // Reads `length` bytes from `offset`; both must lie within info().size_bytes. kInternal on an
  // I/O error or when the file is shorter than recorded.
  Result<std::string> Read(std::int64_t offset, std::int64_t length) const;

 private:
  int fd_;
  ObjectInfo info_;
};

class LocalArtifactStore final : public ArtifactStore {
 public:
  // `url_or_path`: "file:///abs/dir" (host empty or "localhost") or a plain path (made
  // absolute). Creates the root (0700). The signer is copied.
  static Result<std::unique_ptr<LocalArtifactStore>> Open(std::string_view url_or_path,
                                                          const UrlSigner& signer,
                                                          BaseUrlProvider base_url,
                                                          LocalArtifactStoreOptions options = {});

  std::string Describe() const override { return "file://" + root_; }
  Status Put(std::string_view key, std::string_view content,
             std::string_view content_type) override;
  Status PutFile(std::string_view key, const std::string& path,
                 std::string_view content_type) override;
  Status PutSource(std::string_view key, ByteSource& source,
                   std::string_view content_type) override;
  Result<std::string> Get(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  Result<std::string> PresignGet(std::string_view key, std::chrono::seconds expires,
                                 WallTime now) override;

  // For the route that serves the URLs: the object with its metadata, open for reading.
  // kInvalidArgument for a bad key, kNotFound when absent.
  Result<LocalObject> OpenObject(std::string_view key) const;

  const std::string& root() const { return root_; }
  const UrlSigner& signer() const { return signer_; }

 private:
  class Writer;
  LocalArtifactStore(std::string root, UrlSigner signer, BaseUrlProvider base_url,
                     LocalArtifactStoreOptions options)
      : root_(std::move(root)),
        signer_(std::move(signer)),
        base_url_(std::move(base_url)),
        options_(options) {}

  // Publishes a fully written temp data file as `key` (see the layout above).
  Status Publish(std::string_view key, Writer& writer, std::string_view content_type);

  const std::string root_;
  const UrlSigner signer_;
  const BaseUrlProvider base_url_;
  const LocalArtifactStoreOptions options_;
};

// LocalArtifactStore::Open with the default options, for callers that need only the interface.
Result<std::unique_ptr<ArtifactStore>> OpenLocalArtifactStore(std::string_view url_or_path,
                                                              const UrlSigner& signer,
                                                              BaseUrlProvider base_url);

}  // namespace outpost::artifacts
