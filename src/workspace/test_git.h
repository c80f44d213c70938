// Test helpers: temp dirs and real git repositories made with the git CLI.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "testing/temp_dir.h"

namespace outpost::workspace::testing {

// A fresh directory that the caller removes (outpost::testing::TempDir, released).
inline std::string TempDir() { return outpost::testing::TempDir("outpost-ws").Release(); }

// Runs `cmd` with sh; returns stdout (trailing newline removed). Fails the test on nonzero.
inline std::string Sh(const std::string& cmd) {
  const std::string full =
      "export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t "
      "GIT_COMMITTER_EMAIL=t@e; " +
      cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << cmd << "\n" << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

inline std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A repository at `dir` whose default branch is `branch`, with one commit of README.md.
inline std::string MakeRepo(const std::string& dir, const std::string& branch = "trunk") {
  Sh("git init -q -b " + branch + " " + dir + " && cd " + dir +
     " && echo hello > README.md && git add README.md && git commit -q -m init");
  return Sh("git -C " + dir + " rev-parse HEAD");
}

}  // namespace outpost::workspace::testing
