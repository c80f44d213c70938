// Helpers shared by the runner tests: polling with a deadline, process checks (and the test
// kit's TempDir).
#pragma once

#include <signal.h>
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "runner/proc.h"
#include "testing/temp_dir.h"  // TempDir, which the runner tests use unqualified

namespace outpost::testing {

// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Gone = no such process, or a zombie that some other parent has not reaped yet.
inline bool Gone(int pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::optional<proc::StatInfo> s = proc::ReadStat(pid);
  return !s || s->state == 'Z';
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The pid a test script wrote (atomically, via mv) into `path`, once it is there.
inline std::optional<int> WaitPidFile(const std::string& path) {
  std::optional<int> pid;
  WaitFor([&] {
    std::string s = Slurp(path);
    if (s.empty()) return false;
    pid = std::stoi(s);
    return true;
  });
  return pid;
}

}  // namespace outpost::testing
