#include "artifacts/local/local_artifact_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "artifacts/local/beneath.h"
#include "artifacts/local/object_meta.h"
#include "common/crypto.h"
#include "common/files.h"

namespace outpost::artifacts {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kOctetStream = "application/octet-stream";
constexpr std::size_t kCopyChunk = 1 << 20;
// A sidecar is a few lines; anything longer is no sidecar of ours.
constexpr std::size_t kMaxMetaBytes = 4096;

// errno -> the code the caller acts on (artifact_store.h).
Status FsError(std::string_view what, const std::string& path, int err) {
  std::string message = std::string(what) + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Unavailable(message);  // the retention sweeper may free space: worth a retry
    case ENAMETOOLONG:
      return InvalidArgument(message + " (a key segment is at most 255 bytes here)");
    case ELOOP:
      return FailedPrecondition(message +
                                " (a symbolic link below the artifacts root; links are never "
                                "followed there)");
    case ENOTDIR:
    case EISDIR:
    case EEXIST:
      return FailedPrecondition(message +
                                " (a key cannot be both an object and a prefix of "
                                "other objects in the local store)");
    default:
      return Internal(message);
  }
}

Status EnsureDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FsError("mkdir", dir, ec.value());
  return Status::Ok();
}

std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// The directory part of a key or store-relative name ("" for a top-level one).
std::string_view KeyDir(std::string_view rel) {
  const std::size_t slash = rel.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
}

// Creates root/<KeyDir(rel)> without following links (beneath.h).
Status EnsureDirBeneath(const std::string& root, std::string_view rel) {
  if (int err = MakeDirsBeneath(root, KeyDir(rel)); err != 0) {
    return FsError("mkdir", root + "/" + std::string(KeyDir(rel)), err);
  }
  return Status::Ok();
}

// The sidecar's text: a regular file reached without links, at most kMaxMetaBytes; nullopt
// for anything else (absent, a link, a FIFO, too long), which readers treat as stale.
std::optional<std::string> ReadMetaBeneath(const std::string& root, const std::string& rel) {
  const int fd = OpenBeneath(root, rel, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  struct stat st;
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size <= static_cast<off_t>(kMaxMetaBytes)) {
    std::string text(kMaxMetaBytes + 1, '\0');
    const ssize_t n = ::read(fd, text.data(), text.size());
    if (n >= 0 && static_cast<std::size_t>(n) <= kMaxMetaBytes) {
      text.resize(static_cast<std::size_t>(n));
      out = std::move(text);
    }
  }
  ::close(fd);
  return out;
}

void SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// A temp file in `dir`, named so that List never shows it.
Result<std::pair<int, std::string>> MakeTemp(const std::string& dir) {
  std::string name = dir + "/@tmp-XXXXXX";
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return FsError("create", name, errno);
  return std::make_pair(fd, name);
}

Result<std::string> NormalizeContentType(std::string_view type) {
  if (type.empty()) return std::string(kOctetStream);
  if (type.size() > 255) return InvalidArgument("content type longer than 255 bytes");
  for (unsigned char c : type) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("content type contains control characters");
  }
  return std::string(type);
}

// A List prefix: any key's beginning. Every complete segment must be valid; the last, partial
// one may only use key characters.
Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  if (prefix.front() == '/') return InvalidArgument("list prefix must be relative");
  std::size_t slash = prefix.rfind('/');
  if (slash != std::string_view::npos)
    OUTPOST_RETURN_IF_ERROR(ValidateKey(prefix.substr(0, slash)));
  std::string_view tail = slash == std::string_view::npos ? prefix : prefix.substr(slash + 1);
  if (!tail.empty()) {
    // ValidateKey's alphabet; "." and ".." are fine as the start of a longer segment.
    std::string probe = "x" + std::string(tail);
    if (!ValidateKey(probe).ok()) return InvalidArgument("list prefix has invalid characters");
  }
  return Status::Ok();
}

// flock(2) on <root>/@lock for the duration of a scope. Each holder opens its own descriptor:
// flock locks belong to the open file description, so sharing one would not exclude threads.
class RootLock {
 public:
  RootLock(const std::string& root, bool exclusive) {
    fd_ = ::open((root + "/@lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      status_ = FsError("open", root + "/@lock", errno);
      return;
    }
    while (::flock(fd_, exclusive ? LOCK_EX : LOCK_SH) != 0) {
      if (errno != EINTR) {
        status_ = FsError("flock", root + "/@lock", errno);
        return;
      }
    }
  }
  ~RootLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;
  const Status& status() const { return status_; }

 private:
  int fd_ = -1;
  Status status_;
};

Result<std::string> RootFromUrl(std::string_view url_or_path) {
  std::string path;
  if (url_or_path.starts_with("file:")) {
    auto url = boost::urls::parse_uri(url_or_path);
    if (!url || (!url->encoded_host_and_port().empty() && url->encoded_host() != "localhost")) {
      return InvalidArgument("artifacts URL '" + std::string(url_or_path) +
                             "' must be file:///ABSOLUTE/PATH");
    }
    if (url->has_query() || url->has_fragment() || url->has_userinfo()) {
      return InvalidArgument("artifacts URL '" + std::string(url_or_path) +
                             "' must have no query, fragment or user");
    }
    path = url->path();
    if (path.empty() || path.front() != '/') {
      return InvalidArgument("artifacts URL '" + std::string(url_or_path) +
                             "' must be file:///ABSOLUTE/PATH");
    }
  } else if (url_or_path.find("://") != std::string_view::npos) {
    return InvalidArgument("not a local artifacts URL: '" + std::string(url_or_path) + "'");
  } else if (url_or_path.empty()) {
    return InvalidArgument("the artifacts directory must not be empty");
  } else {
    path = std::string(url_or_path);
  }
  std::error_code ec;
  std::string root = fs::absolute(path, ec).lexically_normal().string();
  if (ec) return Internal("cannot resolve " + path + ": " + ec.message());
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

}  // namespace

// ---- LocalObject ----------------------------------------------------------------------------

LocalObject::LocalObject(LocalObject&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), info_(std::move(other.info_)) {}

LocalObject::~LocalObject() {
  if (fd_ >= 0) ::close(fd_);
}

int LocalObject::Release() && { return std::exchange(fd_, -1); }

Result<std::string> LocalObject::Read(std::int64_t offset, std::int64_t length) const {
  if (offset < 0 || length < 0 || offset + length > info_.size_bytes) {
    return InvalidArgument("read outside the object");
  }
  std::string out(static_cast<std::size_t>(length), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FsError("read", info_.key, errno);
    if (n == 0) return Internal("artifact " + info_.key + " is shorter than recorded");
    done += static_cast<std::size_t>(n);
  }
  return out;
}

namespace {

Result<std::string> HashObject(const LocalObject& object) {
  Sha256 sha;
  const std::int64_t size = object.info().size_bytes;
  for (std::int64_t offset = 0; offset < size;) {
    const std::int64_t n = std::min<std::int64_t>(kCopyChunk, size - offset);
    Result<std::string> chunk = object.Read(offset, n);
    if (!chunk.ok()) return chunk.status();
    sha.Update(*chunk);
    offset += n;
  }
  return sha.HexDigest();
}

}  // namespace

// ---- Writer: a temp data file being filled, hashed on the way -----------------------------

class LocalArtifactStore::Writer {
 public:
  ~Writer() {
    if (fd_ >= 0) ::close(fd_);
    if (!tmp_.empty()) ::unlink(tmp_.c_str());
  }
  Status Open(const std::string& dir) {
    auto tmp = MakeTemp(dir);
    if (!tmp.ok()) return tmp.status();
    std::tie(fd_, tmp_) = *tmp;
    return Status::Ok();
  }
  Status Write(std::string_view data) {
    sha_.Update(data);
    size_ += static_cast<std::int64_t>(data.size());
    Status st = WriteAll(fd_, data);
    return st.ok() ? st : FsError("write", tmp_, errno);
  }
  // Closes the file (after fsync when durable) and describes it.
  Result<ObjectMeta> Finish(bool durable, std::string content_type) {
    if (durable && ::fsync(fd_) != 0) return FsError("fsync", tmp_, errno);
    struct stat st;
    if (::fstat(fd_, &st) != 0) return FsError("stat", tmp_, errno);
    ::close(std::exchange(fd_, -1));
    return ObjectMeta{sha_.HexDigest(), std::move(content_type), size_,
                      static_cast<std::uint64_t>(st.st_ino)};
  }
  const std::string& tmp() const { return tmp_; }
  void Published() { tmp_.clear(); }

 private:
  int fd_ = -1;
  std::string tmp_;
  Sha256 sha_;
  std::int64_t size_ = 0;
};

// ---- LocalArtifactStore ---------------------------------------------------------------------

Result<std::unique_ptr<LocalArtifactStore>> LocalArtifactStore::Open(
    std::string_view url_or_path, const UrlSigner& signer, BaseUrlProvider base_url,
    LocalArtifactStoreOptions options) {
  Result<std::string> root = RootFromUrl(url_or_path);
  if (!root.ok()) return root.status();
  const bool existed = fs::exists(*root);
  OUTPOST_RETURN_IF_ERROR(EnsureDir(*root + "/@meta"));
  if (!existed) ::chmod(root->c_str(), 0700);  // an operator's own choice of mode is kept
  RootLock probe(*root, /*exclusive=*/false);  // fails now, not on the first Put, if read-only
  OUTPOST_RETURN_IF_ERROR(probe.status());
  return std::unique_ptr<LocalArtifactStore>(
      new LocalArtifactStore(*root, signer, std::move(base_url), options));
}

Result<std::unique_ptr<ArtifactStore>> OpenLocalArtifactStore(std::string_view url_or_path,
                                                              const UrlSigner& signer,
                                                              BaseUrlProvider base_url) {
  auto store = LocalArtifactStore::Open(url_or_path, signer, std::move(base_url));
  if (!store.ok()) return store.status();
  return std::unique_ptr<ArtifactStore>(std::move(*store));
}

Status LocalArtifactStore::Publish(std::string_view key, Writer& writer,
                                   std::string_view content_type) {
  const std::string data_path = root_ + "/" + std::string(key);
  const std::string meta_path = root_ + "/@meta/" + std::string(key);
  Result<ObjectMeta> meta = writer.Finish(options_.durable, std::string(content_type));
  if (!meta.ok()) return meta.status();
  OUTPOST_RETURN_IF_ERROR(EnsureDirBeneath(root_, "@meta/" + std::string(key)));
  Writer meta_writer;
  OUTPOST_RETURN_IF_ERROR(meta_writer.Open(DirOf(meta_path)));
  OUTPOST_RETURN_IF_ERROR(meta_writer.Write(EncodeObjectMeta(*meta)));
  OUTPOST_RETURN_IF_ERROR(meta_writer.Finish(options_.durable, "").status());
  {
    RootLock lock(root_, /*exclusive=*/true);
    OUTPOST_RETURN_IF_ERROR(lock.status());
    if (::rename(writer.tmp().c_str(), data_path.c_str()) != 0) {
      return FsError("rename to", data_path, errno);
    }
    writer.Published();
    // Should this fail, the old sidecar no longer matches the data file's inode and readers
    // recompute the sha256 (see the header).
    if (::rename(meta_writer.tmp().c_str(), meta_path.c_str()) != 0) {
      return FsError("rename to", meta_path, errno);
    }
    meta_writer.Published();
  }
  if (options_.durable) {
    SyncDir(DirOf(data_path));
    SyncDir(DirOf(meta_path));
  }
  return Status::Ok();
}

Status LocalArtifactStore::Put(std::string_view key, std::string_view content,
                               std::string_view content_type) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  Result<std::string> type = NormalizeContentType(content_type);
  if (!type.ok()) return type.status();
  const std::string data_path = root_ + "/" + std::string(key);
  OUTPOST_RETURN_IF_ERROR(EnsureDirBeneath(root_, key));
  Writer writer;
  OUTPOST_RETURN_IF_ERROR(writer.Open(DirOf(data_path)));
  OUTPOST_RETURN_IF_ERROR(writer.Write(content));
  return Publish(key, writer, *type);
}

// Copies rather than hard-links: the source usually lives in a run directory that is cleaned
// up, possibly by a process that truncates or rewrites it in place.
Status LocalArtifactStore::PutFile(std::string_view key, const std::string& path,
                                   std::string_view content_type) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  Result<std::string> type = NormalizeContentType(content_type);
  if (!type.ok()) return type.status();
  int src = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    if (errno == ENOENT) return NotFound("no such file to upload: " + path);
    return FsError("open", path, errno);
  }
  const std::string data_path = root_ + "/" + std::string(key);
  Writer writer;
  Status st = EnsureDirBeneath(root_, key);
  if (st.ok()) st = writer.Open(DirOf(data_path));
  std::string buf(kCopyChunk, '\0');
  while (st.ok()) {
    ssize_t n = ::read(src, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) st = FsError("read", path, errno);
    if (n <= 0) break;
    st = writer.Write(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(src);
  OUTPOST_RETURN_IF_ERROR(st);
  return Publish(key, writer, *type);
}

Status LocalArtifactStore::PutSource(std::string_view key, ByteSource& source,
                                     std::string_view content_type) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  Result<std::string> type = NormalizeContentType(content_type);
  if (!type.ok()) return type.status();
  const std::string data_path = root_ + "/" + std::string(key);
  Writer writer;
  Status st = EnsureDirBeneath(root_, key);
  if (st.ok()) st = writer.Open(DirOf(data_path));
  for (std::int64_t offset = 0; st.ok() && offset < source.size();) {
    Result<std::string> chunk = source.ReadAt(offset, kCopyChunk);
    if (!chunk.ok()) {
      st = chunk.status();
      break;
    }
    if (chunk->empty()) break;
    offset += static_cast<std::int64_t>(chunk->size());
    st = writer.Write(*chunk);
  }
  OUTPOST_RETURN_IF_ERROR(st);
  return Publish(key, writer, *type);
}

Result<LocalObject> LocalArtifactStore::OpenObject(std::string_view key) const {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  const std::string data_path = root_ + "/" + std::string(key);
  int fd = -1;
  std::optional<std::string> meta_text;
  {
    RootLock lock(root_, /*exclusive=*/false);
    OUTPOST_RETURN_IF_ERROR(lock.status());
    // No link is followed anywhere below the root (beneath.h). O_NONBLOCK: a FIFO dropped
    // into the root must not hang the reader.
    fd = OpenBeneath(root_, key, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
        return NotFound("no artifact " + std::string(key));
      }
      return FsError("open", data_path, errno);
    }
    meta_text = ReadMetaBeneath(root_, "@meta/" + std::string(key));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return NotFound("no artifact " + std::string(key));  // "a" when only "a/b" exists
  }
  ObjectInfo info;
  info.key = std::string(key);
  info.size_bytes = st.st_size;
  info.modified = WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  std::optional<ObjectMeta> meta;
  if (meta_text) meta = DecodeObjectMeta(*meta_text);
  if (meta && meta->inode == static_cast<std::uint64_t>(st.st_ino) && meta->size == st.st_size) {
    info.sha256 = std::move(meta->sha256);
    info.content_type = std::move(meta->content_type);
    return LocalObject(fd, std::move(info));
  }
  // A stale or missing sidecar: describe the bytes that are there.
  LocalObject object(fd, info);
  Result<std::string> sha = HashObject(object);
  if (!sha.ok()) return sha.status();
  info.sha256 = std::move(*sha);
  info.content_type = std::string(kOctetStream);
  return LocalObject(std::move(object).Release(), std::move(info));
}

Result<std::string> LocalArtifactStore::Get(std::string_view key) {
  Result<LocalObject> object = OpenObject(key);
  if (!object.ok()) return object.status();
  return object->Read(0, object->info().size_bytes);
}

Result<ObjectInfo> LocalArtifactStore::Head(std::string_view key) {
  Result<LocalObject> object = OpenObject(key);
  if (!object.ok()) return object.status();
  return object->info();
}

Result<std::vector<ObjectInfo>> LocalArtifactStore::List(std::string_view prefix) {
  OUTPOST_RETURN_IF_ERROR(ValidatePrefix(prefix));
  // Walk only the deepest directory the prefix names in full.
  const std::size_t slash = prefix.rfind('/');
  const std::string base =
      slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash + 1));
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::is_directory(root_ + "/" + base, ec)) return out;
  std::vector<std::string> keys;
  for (auto it = fs::recursive_directory_iterator(root_ + "/" + base, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find('@') != std::string::npos) {  // @meta, @lock, @tmp-…
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    // Not followed: a symlink is no object of ours (OpenObject refuses it too).
    if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
    std::string key = base + it->path().lexically_relative(root_ + "/" + base).string();
    // A file dropped in by hand under a name that is no key is not an object either.
    if (key.starts_with(prefix) && ValidateKey(key).ok()) keys.push_back(std::move(key));
  }
  if (ec) return Internal("listing " + root_ + "/" + base + ": " + ec.message());
  std::sort(keys.begin(), keys.end());
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    Result<LocalObject> object = OpenObject(key);
    if (object.ok()) {
      out.push_back(object->info());
    } else if (object.status().code() != Code::kNotFound) {  // deleted meanwhile: skip
      return object.status();
    }
  }
  return out;
}

Status LocalArtifactStore::Delete(std::string_view key) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  RootLock lock(root_, /*exclusive=*/true);
  OUTPOST_RETURN_IF_ERROR(lock.status());
  for (const std::string& rel : {std::string(key), "@meta/" + std::string(key)}) {
    // Through the real directories only: a planted link never makes us unlink outside.
    std::string name;
    const int dir = OpenParentBeneath(root_, rel, &name);
    if (dir < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
      return FsError("open the directory of", root_ + "/" + rel, errno);
    }
    const int rc = ::unlinkat(dir, name.c_str(), 0);
    const int err = errno;
    ::close(dir);
    if (rc != 0 && err != ENOENT && err != ENOTDIR && err != EISDIR) {
      return FsError("unlink", root_ + "/" + rel, err);
    }
  }
  return Status::Ok();
}

Result<std::string> LocalArtifactStore::PresignGet(std::string_view key,
                                                   std::chrono::seconds expires, WallTime now) {
  OUTPOST_RETURN_IF_ERROR(ValidateKey(key));
  if (expires.count() <= 0) return InvalidArgument("a URL must expire in the future");
  std::string base = base_url_ ? base_url_() : "";
  if (base.empty()) {
    return FailedPrecondition("the server's own URL is not known yet (it has not bound its port)");
  }
  while (base.ends_with('/')) base.pop_back();
  return base + signer_.SignedTarget(key, now + expires);
}

}  // namespace outpost::artifacts
