#include "artifacts/artifact_store.h"

#include <string>

namespace outpost::artifacts {
namespace {

constexpr std::size_t kMaxKeyBytes = 512;

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

Status Bad(std::string_view key, std::string_view why) {
  // The key is quoted only up to a readable length: it may be the 10 kB a client sent.
  std::string shown(key.substr(0, 80));
  if (key.size() > 80) shown += "...";
  return InvalidArgument("invalid artifact key '" + shown + "': " + std::string(why));
}

}  // namespace

// The rules keep a key a safe relative path on every backend: no way to climb out of the
// data dir or bucket prefix, nothing a shell, a URL or S3 would need to escape.
Status ValidateKey(std::string_view key) {
  if (key.empty()) return Bad(key, "must not be empty");
  if (key.size() > kMaxKeyBytes) return Bad(key, "longer than 512 bytes");
  if (key.front() == '/') return Bad(key, "must be relative (no leading '/')");
  std::size_t start = 0;
  while (true) {
    std::size_t slash = key.find('/', start);
    std::string_view segment = key.substr(start, slash - start);
    if (segment.empty()) return Bad(key, "empty path segment");
    if (segment == "." || segment == "..") return Bad(key, "'.' and '..' segments are not allowed");
    for (char c : segment) {
      if (!IsKeyChar(c)) return Bad(key, "only A-Z a-z 0-9 . _ - and '/' are allowed");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

}  // namespace outpost::artifacts

namespace outpost::artifacts {

Status ArtifactStore::PutSource(std::string_view key, ByteSource& source,
                                std::string_view content_type) {
  Result<std::string> content = ReadAll(source);
  if (!content.ok()) return content.status();
  return Put(key, *content, content_type);
}

}  // namespace outpost::artifacts
