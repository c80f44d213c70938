// Test fixture: a real `outpost serve` process on 127.0.0.1:0 with its own temp data dir, and a
// minimal blocking HTTP client. The binary comes from $OUTPOST_BIN (set by CTest).
#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace outpost::testing {

struct HttpResponse {
  int status = 0;                              // 0: no response (connection failed)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value Json() const;
};

// One request on a fresh connection (a "Host" in `headers` replaces the default Host, the
// address). `raw` requests are sent verbatim (for malformed input).
HttpResponse Http(const std::string& host_port, const std::string& method, const std::string& path,
                  const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {});
std::string SendRaw(const std::string& host_port, const std::string& bytes);

// Polls `pred` every 10 ms until it is true or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// A fresh directory /tmp/outpost-test-XXXXXX, mode 0711 (a sandbox's own uid must traverse it),
// that the caller removes (ServerTest does for its dir_).
std::string MakeTempDir();
std::string ReadAll(const std::string& path);
// A string field of a JSON object, "" when absent or not a string.
std::string Str(const boost::json::object& o, std::string_view key);
// Live processes that carry the run's OUTPOST_RUN_ID marker in their environment.
int ProcessesOf(const std::string& run_id);
std::string OutpostBin();
// `outpost admin ARGS... --data-dir DATA_DIR` (no shell); its stdout, trimmed (a tenant id, a
// new key). Throws std::runtime_error when it exits non-zero.
std::string OutpostAdmin(const std::string& data_dir, const std::vector<std::string>& args);
// Runs `cmd` with /bin/sh; its wait status and its standard output.
std::pair<int, std::string> RunShell(const std::string& cmd);
// `set -e; CMD 2>&1`, which must exit 0 (std::runtime_error with its output otherwise); what it
// printed, without trailing newlines.
std::string Sh(const std::string& cmd);
// Kills every shim under `data_dir` and every process that carries a run's marker.
void KillRunsUnder(const std::string& data_dir);

// What one `outpost` command did: its exit code (128+N when signal N ended it), stdout, stderr.
struct CliResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs `outpost ARGS...` (no shell) with `env` added to this process's environment, and waits.
CliResult RunOutpost(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {});
// The same for a command line that /bin/sh splits: `outpost ARGS` (quotes allowed).
CliResult RunOutpostSh(const std::string& args);

class ServerProcess {
 public:
  // Starts `outpost serve --listen 127.0.0.1:0 --data-dir DIR` with extra environment and
  // waits for its "listening on" line. A --listen in extra_args replaces the default one.
  static std::unique_ptr<ServerProcess> Start(const std::string& data_dir,
                                              const std::map<std::string, std::string>& env = {},
                                              const std::vector<std::string>& extra_args = {});
  ~ServerProcess();

  const std::string& address() const { return address_; }  // HOST:PORT
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit; returns the exit status (or 128+signal).
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  HttpResponse Get(const std::string& path) const { return Http(address_, "GET", path); }
  HttpResponse Post(const std::string& path, const std::string& json) const {
    return Http(address_, "POST", path, json, {{"Content-Type", "application/json"}});
  }
  // POST /dispatch; returns the run id ("" on failure).
  std::string Dispatch(const std::string& json) const;
  // Polls GET /runs/{id} until the status is terminal; returns the run object.
  boost::json::object WaitTerminal(
      const std::string& id, std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  boost::json::object Run(const std::string& id) const;

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string address_;
};

}  // namespace outpost::testing
