// A child process with piped stdin/stdout (stderr to a file), for talking newline-delimited
// JSON-RPC to `outpost mcp` and for running the MCP inspector CLI.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace outpost::testing {

class Child {
 public:
  // `env` replaces the environment when `clear_env`, else is added to it.
  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
        bool clear_env = false);
  ~Child();

  void Send(const std::string& line);  // appends '\n'
  void CloseStdin();
  // The next stdout line, or nullopt after `timeout` / at EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Everything left on stdout until EOF (or `timeout`).
  std::string ReadRest(std::chrono::milliseconds timeout);
  // The exit status (128+signal), or nullopt if still running after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buffer_, err_path_;
  bool exited_ = false;
};

// Runs argv to completion (stdin closed) and returns its stdout; "" on timeout.
std::string RunToEnd(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

}  // namespace outpost::testing
