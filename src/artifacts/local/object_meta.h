// The sidecar of a local object: what the data file alone cannot tell (its content type and
// sha256), plus the inode and size of the data file it describes, so that a sidecar left behind
// by a crash between the two renames of a Put is recognised as stale (local_artifact_store.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::artifacts {

struct ObjectMeta {
  std::string sha256;
  std::string content_type;
  std::int64_t size = 0;
  std::uint64_t inode = 0;
};

// {"v":1,"sha256":…,"contentType":…,"size":…,"inode":…}
std::string EncodeObjectMeta(const ObjectMeta& meta);
// nullopt when `json` is not a sidecar this version wrote.
std::optional<ObjectMeta> DecodeObjectMeta(std::string_view json);

}  // namespace outpost::artifacts
