#include "artifacts/local/url_signer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/crypto.h"
#include "common/files.h"

namespace outpost::artifacts {
namespace {

constexpr std::string_view kScheme = "OUTPOST-URL-1";

Status Denied(std::string_view reason, std::string message) {
  Status st(Code::kPermissionDenied, std::move(message));
  st.WithDetail("reason", boost::json::string(reason));
  return st;
}

Status Errno(std::string_view what, const std::string& path) {
  return Internal(std::string(what) + " " + path + ": " + std::strerror(errno));
}

// The one value of `name`, or nullopt when it is absent or repeated (a repeated parameter could
// mean one thing to us and another to a proxy in front of us).
std::optional<std::string> Single(const std::multimap<std::string, std::string>& query,
                                  const std::string& name) {
  if (query.count(name) != 1) return std::nullopt;
  return query.find(name)->second;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Reads the key file, refusing anything another user could have read or planted.
Result<std::string> ReadKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path);
    if (errno == ELOOP) return FailedPrecondition(path + " is a symbolic link; refusing it");
    return Errno("open", path);
  }
  struct stat st;
  Status bad;
  if (::fstat(fd, &st) != 0) {
    bad = Errno("stat", path);
  } else if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    bad = FailedPrecondition(path + " must be a regular file owned by this user");
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    bad = FailedPrecondition(path + " has mode " + mode +
                             "; the URL signing key must not be readable by others (chmod 600 " +
                             path + ")");
  }
  std::string key;
  if (bad.ok()) {
    key.resize(UrlSigner::kKeyBytes + 1);
    ssize_t n = ::read(fd, key.data(), key.size());
    if (n != static_cast<ssize_t>(UrlSigner::kKeyBytes)) {
      bad = FailedPrecondition(path +
                               " must hold exactly 32 bytes; delete it to make a new key "
                               "(every URL signed so far stops working)");
    }
    key.resize(UrlSigner::kKeyBytes);
  }
  ::close(fd);
  if (!bad.ok()) return bad;
  return key;
}

// Writes a new key under a temporary name and links it into place, so that a reader never
// sees a partial key and two creators racing agree on the first one linked.
Status CreateKeyFile(const std::string& path) {
  OUTPOST_ASSIGN_OR_RETURN(const std::string& raw, RandomBytes(UrlSigner::kKeyBytes));
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  Status st = WriteAll(fd, raw);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync", tmp);
  ::close(fd);
  if (st.ok() && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    st = Errno("link", path);
  }
  ::unlink(tmp.c_str());
  return st;
}

}  // namespace

std::string UrlSigner::KeyFilePath(const std::string& data_dir) {
  return data_dir + "/artifact-url.key";
}

Result<UrlSigner> UrlSigner::LoadOrCreate(const std::string& data_dir) {
  const std::string path = KeyFilePath(data_dir);
  Result<std::string> key = ReadKeyFile(path);
  if (!key.ok() && key.status().code() == Code::kNotFound) {
    OUTPOST_RETURN_IF_ERROR(CreateKeyFile(path));
    key = ReadKeyFile(path);
  }
  if (!key.ok()) return key.status();
  return UrlSigner(std::move(*key));
}

std::string UrlSigner::Signature(std::string_view method, std::string_view path,
                                 std::int64_t expires_unix) const {
  std::string message = std::string(kScheme) + "\n" + std::string(method) + "\n" +
                        std::string(path) + "\n" + std::to_string(expires_unix);
  return HmacSha256Hex(key_, message);
}

std::string UrlSigner::SignedTarget(std::string_view object_key, WallTime expires) const {
  const std::int64_t unix =
      std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
  const std::string path = std::string(kPathPrefix) + std::string(object_key);
  return path + "?expires=" + std::to_string(unix) + "&signature=" + Signature("GET", path, unix);
}

Status UrlSigner::Verify(std::string_view method, std::string_view path,
                         const std::multimap<std::string, std::string>& query, WallTime now) const {
  if (method != "GET" && method != "HEAD") {
    return Denied("method_not_allowed",
                  "a signed URL allows only GET and HEAD, not " + std::string(method));
  }
  std::optional<std::string> expires = Single(query, "expires");
  std::optional<std::string> signature = Single(query, "signature");
  if (!expires || !signature) {
    return Denied("missing_parameters",
                  "a signed URL needs exactly one 'expires' and one 'signature' parameter");
  }
  std::int64_t expires_unix = 0;
  auto [end, ec] =
      std::from_chars(expires->data(), expires->data() + expires->size(), expires_unix);
  if (ec != std::errc() || end != expires->data() + expires->size() || expires_unix < 0 ||
      signature->size() != 64 || !IsLowerHex(*signature)) {
    return Denied("malformed_parameters", "malformed 'expires' or 'signature' parameter");
  }
  const std::string expected = Signature("GET", path, expires_unix);
  if (!ConstantTimeEquals(expected, *signature)) {
    return Denied("bad_signature",
                  "the signature does not match this URL (altered, re-targeted to another path, "
                  "or signed with another server key)");
  }
  const std::int64_t now_unix =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (now_unix > expires_unix) {
    return Denied("expired", "the URL expired " + std::to_string(now_unix - expires_unix) +
                                 " seconds ago; ask for a new one");
  }
  return Status::Ok();
}

}  // namespace outpost::artifacts
