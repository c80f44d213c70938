#include "aws/dynalite_fixture.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "testing/temp_dir.h"

namespace outpost::aws::testing {
namespace fs = std::filesystem;
namespace {

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed).
std::uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

Dynalite::Dynalite() {
  const std::string bin = std::string(OUTPOST_SOURCE_DIR) + "/node_modules/.bin/dynalite";
  if (!fs::exists(bin)) {
    error_ = "dynalite is not installed (no " + bin + "): run scripts/install-deps.sh test";
    return;
  }
  try {
    dir_ = outpost::testing::TempDir("outpost-dynalite").Release();  // removed by ~Dynalite
  } catch (const std::runtime_error& e) {
    error_ = e.what();
    return;
  }
  // dynalite reads --port 0 as "the default port": pick a free one, and another if it was taken
  // meanwhile.
  for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
    const std::uint16_t port = FreePort();
    if (port == 0) continue;
    auto ready =
        process_.Start({bin, "--host", "127.0.0.1", "--port", std::to_string(port),
                        "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"},
                       {}, dir_ + "/stdout.log", "listening at");
    if (ready.ok()) {
      port_ = port;
      error_.clear();
    } else {
      error_ = "dynalite: " + ready.status().message();
    }
  }
}

Dynalite::~Dynalite() {
  process_.Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace outpost::aws::testing
