// Secrets at rest (issue 18 item 8): what the shim does to the agent's home and workspace
// once the agent and everything it started are gone, before the run's files are kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost::shim {

// Directories (relative to the agent's home) where agent CLIs cache their environment, secret
// values included: removed whole. Codex's shell snapshots, Claude Code's shell snapshots.
inline const std::vector<std::string> kSecretCacheDirs = {".codex/shell_snapshots",
                                                          ".claude/shell-snapshots"};

struct ScrubStats {
  int files_redacted = 0;           // rewritten with the values replaced by [REDACTED]
  int entries_removed = 0;          // removed: a cache dir, a multiply linked or too large file
  int entries_renamed = 0;          // a name that held a value
  std::vector<std::string> errors;  // what could not be scrubbed (paths relative to root)
};

// Walks `root` without following links (every directory opened with O_NOFOLLOW relative to its
// parent): removes `remove` (paths relative to root) whole; every regular file whose content
// holds one of `secrets` (values of 4 bytes or more, as the Redactor) is rewritten with the
// value replaced by [REDACTED], in place (owner and mode kept) — or removed when it has more
// than one link or is larger than 64 MiB; a file or directory whose name holds one is renamed
// with the value replaced. Special files are left alone (never opened).
//
// Git keeps objects compressed: a loose object (objects/xx/<hex>) or pack (objects/pack/*.pack)
// modified at or after `git_objects_since` (ns since the epoch; -1: never) is inflated and
// removed whole (a pack with its .idx/.rev/.bitmap) when an object holds a value, or when it
// cannot be read through (malformed, or more than 512 MiB). The repository then misses those
// objects: the run's changes were collected before.
ScrubStats ScrubTree(const std::string& root, const std::vector<std::string>& secrets,
                     const std::vector<std::string>& remove = {},
                     std::int64_t git_objects_since = -1);

}  // namespace outpost::shim
