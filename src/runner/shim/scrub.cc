#include "runner/shim/scrub.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "common/files.h"
#include "secrets/redactor.h"

namespace outpost::shim {
namespace {

constexpr std::size_t kMinSecret = 4;  // as the Redactor
constexpr off_t kMaxRewrite = off_t{64} << 20;
constexpr std::size_t kChunk = 1 << 16;
constexpr off_t kMaxObjectFile = off_t{512} << 20;          // a pack read whole
constexpr std::size_t kMaxInflated = std::size_t{1} << 30;  // of one object

struct Walk {
  std::vector<std::string> secrets;  // of kMinSecret bytes or more
  std::vector<std::string> remove;
  std::size_t longest = 0;
  std::int64_t git_objects_since = -1;
  ScrubStats stats;

  bool Holds(std::string_view text) const {
    return std::any_of(secrets.begin(), secrets.end(),
                       [text](const std::string& s) { return text.find(s) != text.npos; });
  }
  void Error(const std::string& rel, std::string_view what) {
    stats.errors.push_back(rel + ": " + std::string(what) + ": " + std::strerror(errno));
  }
};

// Removes the entry `name` of `dfd` and everything below it, never following links.
void RemoveAt(int dfd, const std::string& name, const std::string& rel, Walk& w);

// The directory `fd` (taken over) with its entries but "." and "..", read before any is
// changed; nullptr (the error recorded, `fd` closed) when it cannot be read. The caller
// closedir()s it.
DIR* OpenEntries(int fd, const std::string& rel, Walk& w, std::vector<std::string>& names) {
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    w.Error(rel, "fdopendir");
    ::close(fd);
    return nullptr;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names.emplace_back(n);
  }
  return d;
}

void RemoveChildren(int fd, const std::string& rel, Walk& w) {
  std::vector<std::string> names;
  DIR* d = OpenEntries(fd, rel, w, names);
  if (d == nullptr) return;
  for (const auto& n : names) RemoveAt(::dirfd(d), n, rel + "/" + n, w);
  ::closedir(d);
}

void RemoveAt(int dfd, const std::string& name, const std::string& rel, Walk& w) {
  struct stat st;
  if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return w.Error(rel, "open");
    RemoveChildren(fd, rel, w);
    if (::unlinkat(dfd, name.c_str(), AT_REMOVEDIR) != 0) return w.Error(rel, "rmdir");
  } else if (::unlinkat(dfd, name.c_str(), 0) != 0) {
    return w.Error(rel, "unlink");
  }
  ++w.stats.entries_removed;
}

// Whether the open file holds a value: read in chunks that overlap by longest-1 bytes.
bool FileHolds(int fd, Walk& w) {
  std::string window;
  char buf[kChunk];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += n;
    window.append(buf, static_cast<std::size_t>(n));
    if (w.Holds(window)) return true;
    if (window.size() >= w.longest) window.erase(0, window.size() - (w.longest - 1));
  }
}

bool IsHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

enum class GitFile { kNone, kLoose, kPack };

// objects/xx/<38 or 62 hex> or objects/pack/<name>.pack, by the last three path components.
GitFile GitFileKind(const std::string& rel) {
  std::vector<std::string_view> parts;
  std::string_view r(rel);
  for (std::size_t pos = 0; pos <= r.size();) {
    std::size_t slash = r.find('/', pos);
    if (slash == std::string_view::npos) slash = r.size();
    parts.push_back(r.substr(pos, slash - pos));
    pos = slash + 1;
  }
  if (parts.size() < 3 || parts[parts.size() - 3] != "objects") return GitFile::kNone;
  const std::string_view dir = parts[parts.size() - 2], name = parts.back();
  if (dir.size() == 2 && IsHex(dir) && (name.size() == 38 || name.size() == 62) && IsHex(name)) {
    return GitFile::kLoose;
  }
  if (dir == "pack" && name.ends_with(".pack")) return GitFile::kPack;
  return GitFile::kNone;
}

// Inflates the zlib stream at `in` (`len` bytes available) and checks what comes out, with
// the same overlap as FileHolds. *used: the compressed bytes the stream took. nullopt when it
// cannot be read through (malformed, truncated, too large): the caller treats that as a hit.
std::optional<bool> InflateHolds(const unsigned char* in, std::size_t len, std::size_t* used,
                                 const Walk& w) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return std::nullopt;
  z.next_in = const_cast<unsigned char*>(in);
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(len, UINT32_MAX));
  std::string window;
  std::size_t total = 0;
  unsigned char buf[kChunk];
  std::optional<bool> result;
  for (;;) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t n = sizeof buf - z.avail_out;
    total += n;
    window.append(reinterpret_cast<const char*>(buf), n);
    if (w.Holds(window)) {
      result = true;
      break;
    }
    if (window.size() >= w.longest) window.erase(0, window.size() - (w.longest - 1));
    if (rc == Z_STREAM_END) {
      result = false;
      break;
    }
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || total > kMaxInflated || (rc == Z_BUF_ERROR && n == 0))
      break;
  }
  *used = z.total_in;
  inflateEnd(&z);
  return result;
}

// Whether an object of the pack holds a value: entry by entry (type/size header, a delta's base,
// then one zlib stream), as git's pack format lays them out.
std::optional<bool> PackHolds(const std::string& data, const Walk& w) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t len = data.size();
  if (len < 12 || data.compare(0, 4, "PACK") != 0) return std::nullopt;
  const std::uint32_t count = (std::uint32_t{p[8]} << 24) | (std::uint32_t{p[9]} << 16) |
                              (std::uint32_t{p[10]} << 8) | std::uint32_t{p[11]};
  std::size_t pos = 12;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (pos >= len) return std::nullopt;
    unsigned char c = p[pos++];
    const int type = (c >> 4) & 7;
    while ((c & 0x80) != 0) {
      if (pos >= len) return std::nullopt;
      c = p[pos++];
    }
    if (type == 6) {  // OFS_DELTA: the base's offset
      do {
        if (pos >= len) return std::nullopt;
        c = p[pos++];
      } while ((c & 0x80) != 0);
    } else if (type == 7) {  // REF_DELTA: the base's id
      pos += 20;
    }
    if (pos >= len) return std::nullopt;
    std::size_t used = 0;
    std::optional<bool> holds = InflateHolds(p + pos, len - pos, &used, w);
    if (!holds || *holds) return holds;
    pos += used;
  }
  return false;
}

// A git object file of the agent's: removed when an object holds a value (or cannot be read).
void ScrubGitFile(int dfd, const std::string& name, const std::string& rel, GitFile kind, Walk& w) {
  int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return w.Error(rel, "open");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  const std::int64_t mtime = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (mtime < w.git_objects_since) {
    ::close(fd);
    return;
  }
  std::optional<bool> holds;
  if (st.st_size <= kMaxObjectFile) {
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    ssize_t n = ::pread(fd, data.data(), data.size(), 0);
    data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (kind == GitFile::kPack) {
      holds = PackHolds(data, w);
    } else {
      std::size_t used = 0;
      holds =
          InflateHolds(reinterpret_cast<const unsigned char*>(data.data()), data.size(), &used, w);
    }
  }
  ::close(fd);
  if (holds == false) return;
  if (::unlinkat(dfd, name.c_str(), 0) != 0) return w.Error(rel, "unlink");
  ++w.stats.entries_removed;
  if (kind == GitFile::kPack) {
    const std::string base = name.substr(0, name.size() - 5);
    for (const char* ext : {".idx", ".rev", ".bitmap", ".keep", ".promisor", ".mtimes"}) {
      if (::unlinkat(dfd, (base + ext).c_str(), 0) == 0) ++w.stats.entries_removed;
    }
  }
}

void ScrubFile(int dfd, const std::string& name, const std::string& rel, Walk& w) {
  int fd = ::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return w.Error(rel, "open");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  if (!FileHolds(fd, w)) {
    ::close(fd);
    if (GitFile kind = GitFileKind(rel); kind != GitFile::kNone && w.git_objects_since >= 0) {
      ScrubGitFile(dfd, name, rel, kind, w);
    }
    return;
  }
  if (st.st_nlink > 1 || st.st_size > kMaxRewrite) {
    // Another name may be outside the tree; a huge file is not rewritten in memory.
    ::close(fd);
    if (::unlinkat(dfd, name.c_str(), 0) != 0) return w.Error(rel, "unlink");
    ++w.stats.entries_removed;
    return;
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  std::string clean = Redactor::RedactAll(text, w.secrets);
  ::close(fd);
  // Opened again to write (a read-only file, e.g. to a shim that is not root, is removed).
  fd = ::openat(dfd, name.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || !WriteAll(fd, clean).ok()) {
    w.Error(rel, "rewrite");
    if (fd >= 0) ::close(fd);
    // What could not be rewritten must not stay.
    if (::unlinkat(dfd, name.c_str(), 0) == 0) ++w.stats.entries_removed;
    return;
  }
  ::close(fd);
  ++w.stats.files_redacted;
}

void ScrubDir(int fd, const std::string& rel, Walk& w) {
  std::vector<std::string> names;
  DIR* d = OpenEntries(fd, rel, w, names);
  if (d == nullptr) return;
  const int dfd = ::dirfd(d);
  for (std::string name : names) {
    std::string child = rel.empty() ? name : rel + "/" + name;
    if (std::find(w.remove.begin(), w.remove.end(), child) != w.remove.end()) {
      RemoveAt(dfd, name, child, w);
      continue;
    }
    if (w.Holds(name)) {
      std::string clean = Redactor::RedactAll(name, w.secrets);
      std::replace(clean.begin(), clean.end(), '/', '_');
      if (::renameat(dfd, name.c_str(), dfd, clean.c_str()) == 0) {
        ++w.stats.entries_renamed;
        name = clean;
      } else {
        RemoveAt(dfd, name, child, w);
        continue;
      }
    }
    struct stat st;
    if (::fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = ::openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        w.Error(child, "open");
        continue;
      }
      ScrubDir(sub, child, w);
    } else if (S_ISREG(st.st_mode) && !w.secrets.empty()) {
      ScrubFile(dfd, name, child, w);
    } else if (S_ISLNK(st.st_mode) && !w.secrets.empty()) {
      // A link's target is text too.
      char target[4096];
      ssize_t n = ::readlinkat(dfd, name.c_str(), target, sizeof target);
      if (n > 0 && w.Holds(std::string_view(target, static_cast<std::size_t>(n)))) {
        RemoveAt(dfd, name, child, w);
      }
    }
  }
  ::closedir(d);
}

}  // namespace

ScrubStats ScrubTree(const std::string& root, const std::vector<std::string>& secrets,
                     const std::vector<std::string>& remove, std::int64_t git_objects_since) {
  Walk w;
  w.git_objects_since = git_objects_since;
  for (const auto& s : secrets) {
    if (s.size() < kMinSecret) continue;
    w.secrets.push_back(s);
    w.longest = std::max(w.longest, s.size());
  }
  w.remove = remove;
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) w.Error(root, "open");
    return w.stats;
  }
  ScrubDir(fd, "", w);
  return w.stats;
}

}  // namespace outpost::shim
