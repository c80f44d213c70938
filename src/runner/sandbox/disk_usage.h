// Disk space used by a directory tree, for the sandbox's disk quota watchdog.
#pragma once

#include <cstdint>
#include <string>

namespace outpost::sandbox {

// Bytes allocated under `root` (root included): the sum of st_blocks * 512 of every entry,
// found with lstat (symlinks are counted, never followed; other filesystems mounted below are
// counted too), a file with several hard links inside the tree once. Entries that vanish or
// cannot be read while walking are skipped; a missing root is 0. Cost: one lstat per entry
// (~10 ms per 10k files), so calling it every couple of seconds is fine. Thread-safe.
// Limit: directories nested deeper than ~1000 levels are not descended into (each level holds
// one fd while it is read).
std::int64_t DiskUsage(const std::string& root);

}  // namespace outpost::sandbox
