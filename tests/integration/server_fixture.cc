#include "tests/integration/server_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "testing/temp_dir.h"

namespace outpost::testing {
namespace json = boost::json;

json::value HttpResponse::Json() const {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

namespace {

int Connect(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

HttpResponse ParseResponse(const std::string& raw) {
  HttpResponse r;
  auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  r.body = raw.substr(end + 4);
  return r;
}

}  // namespace

std::string SendRaw(const std::string& host_port, const std::string& bytes) {
  int fd = Connect(host_port);
  if (fd < 0) return "";
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

HttpResponse Http(const std::string& host_port, const std::string& method, const std::string& path,
                  const std::string& body, const std::map<std::string, std::string>& headers) {
  // A "Host" among `headers` replaces the default one (a forged Host, as a rebound name sends).
  std::string host = host_port;
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), "Host") == 0) host = v;
  }
  std::string req =
      method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), "Host") != 0) req += k + ": " + v + "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "DELETE") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return ParseResponse(SendRaw(host_port, req));
}

bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

std::string MakeTempDir() {
  std::string dir = TempDir("outpost-test").Release();
  chmod(dir.c_str(), 0711);  // sandboxes (their own uid) must traverse to their workspace
  return dir;
}

// POSIX reads, not an ifstream: libstdc++'s filebuf throws when read() fails, and a read of
// /proc/<pid>/environ fails with ESRCH when the process exits meanwhile. What was read so far
// is returned; a file that cannot be opened reads as "".
std::string ReadAll(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

int ProcessesOf(const std::string& run_id) {
  const std::string marker = "OUTPOST_RUN_ID=" + run_id;
  int n = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* e = readdir(proc)) {
    if (std::atoi(e->d_name) <= 0) continue;
    std::string env = ReadAll(std::string("/proc/") + e->d_name + "/environ");
    if (env.find(marker + '\0') != std::string::npos || env.ends_with(marker)) ++n;
  }
  closedir(proc);
  return n;
}

std::string OutpostBin() {
  const char* bin = std::getenv("OUTPOST_BIN");
  if (!bin) throw std::runtime_error("OUTPOST_BIN is not set (run through ctest)");
  return bin;
}

std::pair<int, std::string> RunShell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return {::pclose(p), out};
}

std::string Sh(const std::string& cmd) {
  auto [status, out] = RunShell("set -e; " + cmd + " 2>&1");
  if (status != 0)
    throw std::runtime_error("exit status " + std::to_string(status) + ": " + cmd + "\n" + out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string OutpostAdmin(const std::string& data_dir, const std::vector<std::string>& args) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> argv_s = {OutpostBin(), "admin"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  argv_s.insert(argv_s.end(), {"--data-dir", data_dir, "--create"});
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string what;
    for (const auto& a : args) what += " " + a;
    throw std::runtime_error("outpost admin" + what + ": failed");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

namespace {

// Runs argv[0] with `env` over ours, stdout and stderr into files of a temp dir; waits.
CliResult Capture(std::vector<std::string> argv_s, const std::map<std::string, std::string>& env) {
  TempDir dir("outpost-cli");
  const std::string out_path = dir.Join("out"), err_path = dir.Join("err");
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos) merged[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  std::vector<std::string> env_s;
  for (const auto& [k, v] : merged) env_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0) {
      _exit(127);
    }
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ReadAll(out_path),
          ReadAll(err_path)};
}

}  // namespace

CliResult RunOutpost(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {OutpostBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Capture(std::move(argv), env);
}

CliResult RunOutpostSh(const std::string& args) {
  return Capture({"/bin/sh", "-c", OutpostBin() + " " + args}, {});
}

void KillRunsUnder(const std::string& data_dir) {
  DIR* proc = opendir("/proc");
  if (!proc) return;
  std::vector<pid_t> victims;
  while (dirent* e = readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 1 || pid == getpid()) continue;
    std::string cmdline = ReadAll("/proc/" + std::to_string(pid) + "/cmdline");
    std::string environ = ReadAll("/proc/" + std::to_string(pid) + "/environ");
    bool shim =
        cmdline.find("shim") != std::string::npos && cmdline.find(data_dir) != std::string::npos;
    bool agent = environ.find("OUTPOST_RUN_ID=") != std::string::npos &&
                 (environ.find(data_dir) != std::string::npos);
    if (shim || agent) victims.push_back(pid);
  }
  closedir(proc);
  for (pid_t p : victims) kill(p, SIGKILL);
  // A killed shim leaves its workspace image (and the binds of it) mounted: deepest first.
  std::vector<std::string> mounts;
  std::istringstream info(ReadAll("/proc/self/mountinfo"));
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point.starts_with(data_dir + "/")) mounts.push_back(point);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& m : mounts) umount2(m.c_str(), MNT_DETACH);
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& data_dir,
                                                    const std::map<std::string, std::string>& env,
                                                    const std::vector<std::string>& extra_args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  std::string bin = OutpostBin();
  std::vector<std::string> args = {bin, "serve", "--data-dir", data_dir};
  // A test that restarts a server on the same port passes its own --listen.
  if (std::find(extra_args.begin(), extra_args.end(), "--listen") == extra_args.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    if (!std::getenv("OUTPOST_LOG_LEVEL")) setenv("OUTPOST_LOG_LEVEL", "warn", 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  auto server = std::unique_ptr<ServerProcess>(new ServerProcess);
  server->pid_ = pid;
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  const std::string prefix = "listening on http://";
  if (line.rfind(prefix, 0) != 0) {
    server->Wait(std::chrono::seconds(5));
    throw std::runtime_error("outpost serve did not start: '" + line + "'");
  }
  server->address_ = line.substr(prefix.size());
  return server;
}

ServerProcess::~ServerProcess() {
  if (!exited_ && pid_ > 0) {
    Signal(SIGINT);  // stops at once; SIGTERM would drain (wait for the runs) first
    if (Wait(std::chrono::seconds(15)) < 0) {
      Signal(SIGKILL);
      Wait(std::chrono::seconds(5));
    }
  }
}

void ServerProcess::Signal(int sig) {
  if (!exited_) kill(pid_, sig);
}

int ServerProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string ServerProcess::Dispatch(const std::string& body) const {
  HttpResponse r = Post("/dispatch", body);
  json::value v = r.Json();
  if ((r.status != 201 && r.status != 200) || !v.is_object()) return "";
  return std::string(v.at("data").at("runId").as_string());
}

json::object ServerProcess::Run(const std::string& id) const {
  json::value v = Get("/runs/" + id).Json();
  if (!v.is_object() || !v.as_object().contains("data")) return {};
  return v.at("data").as_object();
}

json::object ServerProcess::WaitTerminal(const std::string& id,
                                         std::chrono::milliseconds timeout) const {
  json::object run;
  WaitFor(
      [&] {
        run = Run(id);
        if (!run.contains("status")) return false;
        std::string s(run.at("status").as_string());
        return s != "PENDING" && s != "RUNNING";
      },
      timeout);
  return run;
}

}  // namespace outpost::testing
