// Test support: a real dynalite (node_modules/.bin/dynalite, pinned in package.json) on
// 127.0.0.1, in memory, with table state changes immediate (--createTableMs 0 ...), started and
// stopped by the test. Used by the dynamodb_client tests and the dynamodb:// RunStore suite.
//
// dynalite needs an Authorization header but does not check signatures; any access key works.
// It cannot listen on port 0 (it treats 0 as "default"), so a free port is picked first and the
// start is retried on another port if that one was taken in the meantime.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "aws/tool_process.h"

namespace outpost::aws::testing {

class Dynalite {
 public:
  // Starts the server and waits (up to 30 s) for its "listening" line. On failure, or when
  // node_modules is absent, ok() is false and error() says why.
  Dynalite();
  ~Dynalite();
  Dynalite(const Dynalite&) = delete;
  Dynalite& operator=(const Dynalite&) = delete;

  bool ok() const { return port_ != 0; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  static constexpr const char* kAccessKey = "AKIDDYNALITE";
  static constexpr const char* kSecretKey = "dynalite-secret";

 private:
  ToolProcess process_;
  std::uint16_t port_ = 0;
  std::string dir_;
  std::string error_;
};

}  // namespace outpost::aws::testing
