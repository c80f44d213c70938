// TempDir: a fresh private directory for one test (or one test binary), removed with everything
// in it when the TempDir is destroyed. Replaces the hand-written mkdtemp + remove_all pairs.
//
//   outpost::testing::TempDir dir;                 // /tmp/outpost-test-XXXXXX, mode 0700
//   std::string db = dir.Join("runs.db");
//   dir.WriteFile("config/outpost.toml", "[server]\n");
//
// The default base is /tmp, not $TMPDIR: unix socket paths under it must stay short. Tests whose
// files a sandbox must see pass a base outside what the sandbox mounts over (e.g. /var/tmp).
// Not thread-safe: use one TempDir from one thread, or only read path() concurrently.
#pragma once

#include <string>
#include <string_view>

namespace outpost::testing {

class TempDir {
 public:
  // mkdtemp of BASE/PREFIX-XXXXXX. Throws std::runtime_error naming the template and errno when
  // the directory cannot be created (gtest reports an exception in a fixture or test as a
  // failure of that test).
  explicit TempDir(std::string_view prefix = "outpost-test", std::string_view base = "/tmp");
  ~TempDir();  // removes path() recursively, ignoring errors; nothing after Release()
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory, absolute, without a trailing slash ("" after Release or a move).
  const std::string& path() const { return path_; }
  // path() + "/" + relative.
  std::string Join(std::string_view relative) const;

  // Writes `content` to Join(relative), creating missing parent directories and replacing an
  // existing file; returns the file's path. Throws std::runtime_error when it cannot be written.
  std::string WriteFile(std::string_view relative, std::string_view content) const;
  // The whole content of Join(relative) (or of `relative` itself when it is absolute). Throws
  // std::runtime_error when it cannot be read.
  std::string ReadFile(std::string_view relative) const;

  // Gives up ownership: the directory is no longer removed; returns its path.
  std::string Release();

 private:
  void Remove();
  std::string path_;
};

}  // namespace outpost::testing
