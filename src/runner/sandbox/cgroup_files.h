// Reading and writing cgroup interface files (internal to runner/sandbox).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace outpost::sandbox::cgfs {

// One write(2) of `value` (created if missing, so a fake tree in a temp dir works too).
Status Write(const std::string& path, std::string_view value);
// The value of `key` in a "key value"-per-line file (memory.events, memory.oom_control).
std::optional<std::int64_t> KeyedValue(const std::string& path, std::string_view key);
// The leading integer of a file (memory.peak, memory.max_usage_in_bytes).
std::optional<std::int64_t> Number(const std::string& path);
// The file's first word ("" when unreadable).
std::string FirstWord(const std::string& path);

}  // namespace outpost::sandbox::cgfs
