// Test support: a tool from node_modules (s3rver, dynalite) run as a child in its own process
// group, its output going to a file (not a pipe nobody drains) that is polled for the line
// saying it is ready. Stopping it (destructor) sends SIGTERM to the group, then SIGKILL.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace outpost::aws::testing {

class ToolProcess {
 public:
  ToolProcess() = default;
  ~ToolProcess() { Stop(); }
  ToolProcess(const ToolProcess&) = delete;
  ToolProcess& operator=(const ToolProcess&) = delete;

  // Starts `argv` with `env` added to this process's environment, output to `log`, and waits
  // up to 30 s for the output to match `ready` (ECMAScript regex). Returns its first capture
  // group ("" when it has none); kUnavailable with the output when the tool exits or stays
  // silent (it is then stopped).
  Result<std::string> Start(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& env,
                            const std::string& log, const std::string& ready);
  void Stop();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace outpost::aws::testing
