// The child runs in its own process group so that stopping it reaches node and anything it
// spawned. Its output goes to a file (not a pipe nobody drains) polled for the port line.
#include "aws/s3rver_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

namespace outpost::aws::testing {
namespace fs = std::filesystem;

S3rver::S3rver() {
  const std::string bin = std::string(OUTPOST_SOURCE_DIR) + "/node_modules/.bin/s3rver";
  if (!fs::exists(bin)) {
    skip_ = "s3rver is not installed (node_modules absent): run scripts/install-deps.sh test";
    error_ = skip_;
    return;
  }
  char tmpl[] = "/tmp/outpost-s3rver-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  const std::string log = dir_ + "/stdout.log";
  const std::string data = dir_ + "/data";
  fs::create_directories(data);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 (node >= 17) only
    // offers through its legacy provider.
    ::setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execl(bin.c_str(), bin.c_str(), "-d", data.c_str(), "-a", "127.0.0.1", "-p", "0", "--silent",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  static const std::regex kListening(R"(listening on [^:\s]+:(\d+))");
  std::smatch m;
  std::string text;
  for (int i = 0; i < 600; ++i) {  // 30 s
    std::ifstream in(log);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (std::regex_search(text, m, kListening)) break;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "s3rver exited before listening; output: " + text;
      return;
    }
    ::usleep(50'000);
  }
  if (m.empty()) error_ = "s3rver did not report its port within 30 s; output: " + text;
  if (error_.empty()) port_ = static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

S3rver::~S3rver() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 50 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(100'000);
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace outpost::aws::testing
