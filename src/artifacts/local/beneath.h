// Opening paths below the local store's root without following a symbolic link anywhere below
// it: a link planted in the artifacts directory (to /etc, to the URL key, to another run) is
// no way out of it, for readers and for writers. The root itself may be reached through links
// (an operator's choice); everything under it is walked one component at a time with openat(2)
// and O_NOFOLLOW.
//
// POSIX style: a descriptor, or -1 with errno set (ELOOP when a component is a link, ENOTDIR
// when a component is a file, ENOENT ...). `rel` must be a validated key path ("a/b/c": no
// empty, "." or ".." segment; ValidateKey or the store's own "@meta/"-prefixed names).
#pragma once

#include <string>
#include <string_view>

namespace outpost::artifacts {

// open(root/rel, flags | O_NOFOLLOW | O_CLOEXEC) with no link followed below root.
int OpenBeneath(const std::string& root, std::string_view rel, int flags);

// The directory that holds root/rel, opened O_DIRECTORY with no link followed below root;
// `*name` is rel's last segment (for unlinkat, renameat).
int OpenParentBeneath(const std::string& root, std::string_view rel, std::string* name);

// Creates the directories of root/rel_dir ("a/b"; "" is root itself) that are missing, mode
// 0700, refusing to pass through a link: 0, or the errno (ELOOP: a link; ENOTDIR or EEXIST: a
// file where a directory should be). Writers call it instead of create_directories, which
// would follow a planted link and create directories outside the root.
int MakeDirsBeneath(const std::string& root, std::string_view rel_dir);

}  // namespace outpost::artifacts
