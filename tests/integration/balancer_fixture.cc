#include "tests/integration/balancer_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "aws/dynalite_fixture.h"
#include "aws/http.h"
#include "aws/s3_client.h"
#include "aws/s3rver_fixture.h"
#include "common/clock.h"

namespace outpost::testing {
namespace fs = std::filesystem;
namespace {

// Debian's haproxy, or $OUTPOST_HAPROXY (as scripts/test-preflight.sh).
std::string HaproxyBin() {
  const char* env = std::getenv("OUTPOST_HAPROXY");
  return env && *env ? env : "/usr/sbin/haproxy";
}
constexpr const char* kBucket = "outpost-balancer";

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

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string field; std::getline(ss, field, ',');) out.push_back(field);
  return out;
}

}  // namespace

// The configuration, line by line against the runbook's ALB:
// - `balance roundrobin`: the ALB's default routing algorithm (round robin).
// - `option httpchk GET /health/live` + `http-check expect status 200`, `inter 500ms fall 2
//   rise 1`: the ALB target group's health check on /health/live (HealthyThresholdCount /
//   UnhealthyThresholdCount, much shorter here so a test sees a dead replica leave in ~1 s).
// - `retries 0`, no `option redispatch`: the ALB sends each request to one target and never
//   resends it, idempotent or not — AWS's troubleshooting guide lists "received a TCP RST from the
//   target when attempting to establish a connection" among the causes of the ALB's own 502.
//   So until the health checks take a dead replica out (~1 s here), a request sent to it fails
//   (HAProxy answers 503 where the ALB answers 502), and a stream it served is cut: the client
//   retries, as behind the ALB. Nothing a replica received is ever sent to another.
// - `timeout server/client 1h`, `timeout tunnel 1h`: the ALB's idle timeout raised for SSE
//   (Outpost sends a heartbeat every 15 s; the runbook sets the ALB's idle timeout above it).
// - `http-response set-header X-Outpost-Backend %s`: test-only, names the replica that
//   answered (the ALB has no such header).
Balancer::Balancer(const std::vector<std::pair<std::string, std::string>>& servers,
                   const std::string& dir, std::uint16_t first_port)
    : dir_(dir), socket_(dir + "/stats.sock"), servers_(servers) {
  if (::access(HaproxyBin().c_str(), X_OK) != 0) {
    throw std::runtime_error("haproxy is not installed (no " + HaproxyBin() +
                             "): run scripts/install-deps.sh test");
  }
  fs::create_directories(dir_);
  std::string output;
  for (int attempt = 0; attempt < 10 && pid_ < 0; ++attempt) {
    const std::uint16_t port = attempt == 0 && first_port != 0 ? first_port : FreePort();
    if (port == 0) continue;
    if (StartOn(port, &output)) return;
    // Another process took the port between FreePort and HAProxy's bind: try another one.
    if (output.find("cannot bind socket") == std::string::npos) break;
  }
  throw std::runtime_error("haproxy did not start: " + output);
}

bool Balancer::StartOn(std::uint16_t port, std::string* output) {
  address_ = "127.0.0.1:" + std::to_string(port);
  std::ostringstream cfg;
  cfg << "global\n"
      << "  stats socket " << socket_ << " mode 600 level admin\n"
      << "  maxconn 4096\n"
      << "defaults\n"
      << "  mode http\n"
      << "  timeout connect 2s\n"
      << "  timeout client 1h\n"
      << "  timeout server 1h\n"
      << "  timeout tunnel 1h\n"
      << "  timeout http-request 10s\n"
      << "  timeout http-keep-alive 10s\n"
      << "  retries 0\n"
      << "frontend outpost\n"
      << "  bind " << address_ << "\n"
      << "  default_backend replicas\n"
      << "backend replicas\n"
      << "  balance roundrobin\n"
      << "  option httpchk GET /health/live\n"
      << "  http-check expect status 200\n"
      << "  default-server check inter 500ms fall 2 rise 1\n"
      << "  http-response set-header " << kBackendHeader << " %s\n";
  for (const auto& [name, addr] : servers_) cfg << "  server " << name << " " << addr << "\n";
  config_ = cfg.str();
  const std::string cfg_path = dir_ + "/haproxy.cfg";
  const std::string log_path = dir_ + "/haproxy.log";
  std::ofstream(cfg_path) << config_;
  std::error_code ec;
  fs::remove(socket_, ec);  // a previous attempt's socket is not this HAProxy's
  ++starts_;
  const std::string bin = HaproxyBin();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execl(bin.c_str(), bin.c_str(), "-f", cfg_path.c_str(), "-db", static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) {  // it exited: a bad config or a taken port
      *output = ReadAll(log_path);
      return false;
    }
    if (fs::exists(socket_)) {
      pid_ = pid;
      if (Command("show info").find("Pid:") != std::string::npos) return true;
      pid_ = -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  *output = "no answer on its stats socket within 20 s: " + ReadAll(log_path);
  return false;
}

Balancer::~Balancer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string Balancer::Command(const std::string& command) const {
  if (pid_ < 0) return "";
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_.c_str());
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string line = command + "\n";
    if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, n);
    }
  }
  ::close(fd);
  return out;
}

std::map<std::string, std::string> Balancer::ServerStates() const {
  std::map<std::string, std::string> states;
  std::stringstream ss(Command("show stat"));
  std::string line;
  if (!std::getline(ss, line) || !line.starts_with("# ")) return states;
  const std::vector<std::string> columns = SplitCsv(line.substr(2));
  auto column = [&](const char* name) {
    return std::find(columns.begin(), columns.end(), name) - columns.begin();
  };
  const auto px = column("pxname"), sv = column("svname"), status = column("status");
  for (; std::getline(ss, line);) {
    const std::vector<std::string> f = SplitCsv(line);
    if (static_cast<std::ptrdiff_t>(f.size()) <= status || f[px] != "replicas") continue;
    if (f[sv] == "BACKEND" || f[sv] == "FRONTEND") continue;
    states[f[sv]] = f[status];
  }
  return states;
}

bool Balancer::WaitAllUp(std::chrono::milliseconds timeout) const {
  return WaitFor(
      [&] {
        auto states = ServerStates();
        if (states.size() != servers_.size()) return false;
        return std::all_of(states.begin(), states.end(),
                           [](const auto& s) { return s.second == "UP"; });
      },
      timeout);
}

bool Balancer::WaitState(const std::string& name, const std::string& status,
                         std::chrono::milliseconds timeout) const {
  return WaitFor([&] { return ServerStates()[name] == status; }, timeout);
}

std::string Balancer::BackendOf(const HttpResponse& r) {
  auto it = r.headers.find(Lower(kBackendHeader));
  return it == r.headers.end() ? "" : it->second;
}

std::string Balancer::BackendOf(const std::string& raw_header) {
  const std::string lower = Lower(raw_header);
  const std::string key = "\r\n" + Lower(kBackendHeader) + ":";
  const std::size_t at = lower.find(key);
  if (at == std::string::npos) return "";
  std::size_t begin = at + key.size();
  const std::size_t end = raw_header.find("\r\n", begin);
  while (begin < end && raw_header[begin] == ' ') ++begin;
  return raw_header.substr(begin, end == std::string::npos ? end : end - begin);
}

ReplicaCluster::ReplicaCluster(ClusterOptions options) : options_(std::move(options)) {
  root_ = MakeTempDir();
  try {
    Start();
  } catch (...) {
    Stop();  // what did start, stopped, and root() removed
    throw;
  }
}

void ReplicaCluster::Start() {
  s3rver_ = std::make_unique<aws::testing::S3rver>();
  if (!s3rver_->ok()) throw std::runtime_error("s3rver: " + s3rver_->error());
  {
    aws::S3ClientOptions o;
    o.endpoint = s3rver_->endpoint();
    o.path_style = true;
    o.credentials = {aws::testing::S3rver::kAccessKey, aws::testing::S3rver::kSecretKey, ""};
    auto client = aws::S3Client::Create(o, aws::MakeHttpSender({}), RealClock::Instance());
    if (!client.ok()) throw std::runtime_error("s3 client: " + client.status().message());
    if (Status s = (*client)->CreateBucket(kBucket); !s.ok()) {
      throw std::runtime_error("s3rver: create bucket: " + s.message());
    }
  }
  // A local repository for the runs that check one out (`outpost validate`), on branch main.
  Sh("git init -q -b main " + Repo() + " && cd " + Repo() +
     " && echo hello > README.md && git add README.md && git -c user.name=t -c user.email=t@e "
     "commit -q -m init");
  if (options_.store == ClusterStore::kDynamoDb) {
    dynalite_ = std::make_unique<aws::testing::Dynalite>();
    if (!dynalite_->ok()) throw std::runtime_error("dynalite: " + dynalite_->error());
  }
  std::ofstream(root_ + "/outpost.toml")
      << "[server]\nrunner = \"" << options_.runner << "\"\n"
      << "lease_seconds = " << options_.lease_seconds << "\n"
      << "cancel_grace_seconds = 1\n"
      // The balancer's address (its port is chosen after the replicas start): the Host clients
      // send through it, as the ALB's DNS name is in production.
      << "allowed_hosts = [\"127.0.0.1\"]\n"
      << "artifacts = \"s3://" << kBucket << "/runs?endpoint=" << s3rver_->endpoint()
      << "&region=us-east-1\"\n"
      << "[agents.shell]\nmax_concurrent = " << options_.shell_max_concurrent << "\n"
      << "[agents.claude]\nenabled = false\n[agents.codex]\nenabled = false\n"
      << "[agents.gemini]\nenabled = false\n[agents.aider]\nenabled = false\n"
      << "[agents.grok]\nenabled = false\n"
      << options_.extra_config;
  std::vector<std::pair<std::string, std::string>> servers;
  for (int i = 0; i < options_.replicas; ++i) {
    fs::create_directories(DataDir(i));
    replicas_.push_back(ServerProcess::Start(DataDir(i), Env(i), Args(i)));
    servers.emplace_back(Name(i), replicas_.back()->address());
  }
  balancer_ = std::make_unique<Balancer>(servers, root_ + "/haproxy");
  if (!balancer_->WaitAllUp()) {
    throw std::runtime_error("haproxy: not every replica came UP: " +
                             balancer_->Command("show stat"));
  }
}

std::map<std::string, std::string> ReplicaCluster::Env(int i) const {
  // dynalite takes any access key, s3rver only its own: both get s3rver's.
  std::map<std::string, std::string> env = {
      {"AWS_ACCESS_KEY_ID", aws::testing::S3rver::kAccessKey},
      {"AWS_SECRET_ACCESS_KEY", aws::testing::S3rver::kSecretKey},
      {"OUTPOST_CONFIG", root_ + "/outpost.toml"},
      {"OUTPOST_REPLICA_ID", Name(i)},
      {"OUTPOST_ALLOW_LOCAL_REPOS", "1"},
      {"OUTPOST_LOCAL_REPO_ROOTS", root_ + "/repos"}};
  if (options_.store == ClusterStore::kSqlite) {
    env["OUTPOST_STORE"] = "sqlite://" + root_ + "/shared.db";
  }
  return env;
}

std::vector<std::string> ReplicaCluster::Args(int i) const {
  if (options_.store != ClusterStore::kDynamoDb) return {};
  std::vector<std::string> args = {
      "--store", "dynamodb://balancer?region=us-east-1&endpoint=" + dynalite_->endpoint()};
  if (i == 0) args.push_back("--create-tables");
  return args;
}

int ReplicaCluster::IndexOf(const std::string& name) const {
  for (int i = 0; i < static_cast<int>(replicas_.size()); ++i) {
    if (Name(i) == name) return i;
  }
  return -1;
}

void ReplicaCluster::Kill(int i) {
  auto& r = replicas_.at(static_cast<std::size_t>(i));
  if (!r) return;
  r->Signal(SIGKILL);
  r->Wait();
  r.reset();
}

ReplicaCluster::~ReplicaCluster() { Stop(); }

void ReplicaCluster::Stop() {
  balancer_.reset();
  for (auto& r : replicas_) r.reset();
  for (int i = 0; i < static_cast<int>(replicas_.size()); ++i) KillRunsUnder(DataDir(i));
  dynalite_.reset();
  s3rver_.reset();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

}  // namespace outpost::testing
