// Small filesystem helpers with Status results. Atomic writes are write-to-temp + fsync +
// rename + fsync(dir): a reader sees the old file or the whole new one, never a torn one.
#pragma once

#include <string>

#include "common/status.h"

namespace outpost {

// With durable=false the fsyncs are skipped: the rename is still atomic for readers, but a
// machine crash may lose the file (for files whose loss a restart handles anyway).
Status WriteFileAtomic(const std::string& path, std::string_view content, int mode = 0644,
                       bool durable = true);
Result<std::string> ReadFile(const std::string& path);
bool FileExists(const std::string& path);
Status MakeDirs(const std::string& path, int mode = 0755);
// Appends all of `data` to fd, retrying on EINTR and short writes.
Status WriteAll(int fd, std::string_view data);

}  // namespace outpost
