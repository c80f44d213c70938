// The agent's repository read as plain data, after the agent ended (security audit F2).
//
// Everything under <workspace>/.git is the agent's. git itself would follow whatever the agent
// put there — `.git` as a symlink or a `gitdir:` file, `objects/info/alternates`, `commondir`,
// a ref or packed-refs that is a symlink — into any repository on the host, such as another
// tenant's mirror. So the root-side collection never lets git discover or open the agent's
// repository: these functions open every path component with O_NOFOLLOW, below a `.git` that
// must be a real directory, and read only HEAD, the refs it names and the object files.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"

namespace outpost::workspace {

// The commit the agent's HEAD names: HEAD holds an object id, or "ref: refs/..." resolved
// through loose refs and then packed-refs of that same .git (at most 5 symbolic steps).
// nullopt when .git is not a real directory, or anything on the way is a link, missing,
// oversized or malformed; `commondir` and `gitdir:` are never followed.
std::optional<std::string> ReadAgentHead(const std::string& workspace);

// Links (or, across filesystems, copies) the agent's object files into `objects_dir` (a
// repository's objects directory of ours): loose objects `xx/<rest>` and `pack/pack-*.pack`
// with their `.idx`. Only regular files, each opened with O_NOFOLLOW below real directories;
// `objects/info` (alternates, commit-graph, multi-pack-index) is never read. A .git or objects
// directory that is a link or missing imports nothing (OK). kInternal when a file of ours
// cannot be written.
Status ImportAgentObjects(const std::string& workspace, const std::string& objects_dir);

}  // namespace outpost::workspace
