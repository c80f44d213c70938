// Can this machine run sandboxed agents? Checked once at `outpost serve` start, so that a
// missing bubblewrap or disabled user namespaces fail the server loudly instead of every run.
#pragma once

#include <string>

#include "common/status.h"

namespace outpost::sandbox {

// The absolute path of `name` in the colon-separated `path` (the process's PATH when empty).
// kFailedPrecondition "bubblewrap is not installed" style errors are the caller's to phrase:
// this returns kNotFound when no executable file of that name is on the path.
Result<std::string> FindExecutable(const std::string& name, std::string path = "");

// bwrap is on PATH and a trivial sandbox (`bwrap --unshare-all ... /bin/true`) runs as `uid`
// (gid = uid). kFailedPrecondition with a one-line reason otherwise: "bubblewrap is not
// installed", "unprivileged user namespaces are disabled: ...", "bubblewrap cannot start a
// sandbox: <its error>". Must run as root (it drops to uid); blocks up to ~10 s.
Status CheckSandboxUsable(int uid);

// Whether the bubblewrap at `bwrap` takes --disable-userns (it reports version 0.8.0 or later).
// Runs `bwrap --version` once; false when it cannot tell.
bool SupportsDisableUserns(const std::string& bwrap);

}  // namespace outpost::sandbox
