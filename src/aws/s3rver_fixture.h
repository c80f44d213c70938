// Test support: a real s3rver (node_modules/.bin/s3rver, pinned in package.json) on 127.0.0.1
// with a free port and a fresh data directory, started and stopped by the test. Used by the S3
// client tests and the s3:// ArtifactStore conformance suite.
//
// s3rver accepts the access key "S3RVER" (secret "S3RVER"), refuses unknown access keys
// (InvalidAccessKeyId) and expired presigned URLs, but does not verify SigV4 signatures: those
// are proven by sigv4_test and the AWS SDK cross-check instead.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "aws/tool_process.h"

namespace outpost::aws::testing {

class S3rver {
 public:
  // Starts the server and waits (up to 30 s) for its "listening" line. On failure, or when
  // node_modules is absent, ok() is false and error() says why.
  S3rver();
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  bool ok() const { return port_ != 0; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

 private:
  ToolProcess process_;
  std::uint16_t port_ = 0;
  std::string dir_;
  std::string error_;
};

}  // namespace outpost::aws::testing
