#include "aws/s3rver_fixture.h"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "testing/temp_dir.h"

namespace outpost::aws::testing {
namespace fs = std::filesystem;

S3rver::S3rver() {
  const std::string bin = std::string(OUTPOST_SOURCE_DIR) + "/node_modules/.bin/s3rver";
  if (!fs::exists(bin)) {
    error_ = "s3rver is not installed (no " + bin + "): run scripts/install-deps.sh test";
    return;
  }
  try {
    dir_ = outpost::testing::TempDir("outpost-s3rver").Release();  // removed by ~S3rver
  } catch (const std::runtime_error& e) {
    error_ = e.what();
    return;
  }
  const std::string data = dir_ + "/data";
  fs::create_directories(data);
  // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 (node >= 17) only
  // offers through its legacy provider.
  auto port = process_.Start({bin, "-d", data, "-a", "127.0.0.1", "-p", "0", "--silent"},
                             {{"NODE_OPTIONS", "--openssl-legacy-provider"}}, dir_ + "/stdout.log",
                             R"(listening on [^:\s]+:(\d+))");
  if (!port.ok()) {
    error_ = "s3rver: " + port.status().message();
    return;
  }
  port_ = static_cast<std::uint16_t>(std::stoi(*port));
}

S3rver::~S3rver() {
  process_.Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace outpost::aws::testing
