#include "workspace/git.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace outpost::workspace {
namespace {

constexpr std::size_t kErrTail = 8192;

// Reads whatever is there; false at EOF or on error.
bool ReadInto(int fd, std::string& into, std::size_t keep) {
  char buf[65536];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  if (keep > 0 && into.size() > keep) into.erase(0, into.size() - keep);
  return true;
}

struct Spawned {
  pid_t pid = -1;
  int out = -1;
  int err = -1;
};

Result<Spawned> Start(const GitCommand& cmd) {
  int o[2], e[2];
  if (::pipe2(o, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(e, O_CLOEXEC) != 0) {
    ::close(o[0]);
    ::close(o[1]);
    return Internal(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, o[1], 1);
  posix_spawn_file_actions_adddup2(&fa, e[1], 2);
  if (!cmd.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cmd.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  for (int sig : {SIGPIPE, SIGCHLD, SIGUSR1, SIGTERM, SIGINT, SIGHUP}) sigaddset(&def, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv, envp;
  for (const auto& a : cmd.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& v : cmd.env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(o[1]);
  ::close(e[1]);
  if (rc != 0) {
    ::close(o[0]);
    ::close(e[0]);
    return Internal("cannot start git: " + std::string(std::strerror(rc)));
  }
  return Spawned{pid, o[0], e[0]};
}

}  // namespace

Result<GitOutput> SpawnGitExec::Run(const GitCommand& cmd) {
  Result<Spawned> s = Start(cmd);
  if (!s.ok()) return s.status();
  if (on_start) on_start(s->pid);
  GitOutput result;
  const auto deadline = std::chrono::steady_clock::now() + limit_;
  bool out_open = true, err_open = true, killed = false;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(s->pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd fds[2] = {{out_open ? s->out : -1, POLLIN, 0}, {err_open ? s->err : -1, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(left.count(), 1000))) <= 0) continue;
    if (fds[0].revents != 0) out_open = ReadInto(s->out, result.out, 0);
    if (fds[1].revents != 0) err_open = ReadInto(s->err, result.err, kErrTail);
    if (cmd.max_out > 0 && result.out.size() > cmd.max_out) {
      ::kill(s->pid, SIGKILL);
      result.truncated = true;
      result.out.resize(cmd.max_out);
      break;
    }
  }
  ::close(s->out);
  ::close(s->err);
  int status = 0;
  while (::waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (killed)
    return Unavailable("git did not finish within " + std::to_string(limit_.count()) + " s");
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return result;
}

std::vector<std::string> GitEnv(const std::string& home,
                                const std::optional<GitCredential>& credential,
                                const std::vector<std::string>& config) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> env{
      std::string("PATH=") + (path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin"),
      "HOME=" + home,
      "LC_ALL=C",
      "GIT_CONFIG_NOSYSTEM=1",
      "GIT_CONFIG_GLOBAL=/dev/null",
      "GIT_TERMINAL_PROMPT=0",
      "GIT_ASKPASS=/bin/false",
      "SSH_ASKPASS=/bin/false",
      "GIT_SSH_COMMAND=" + SshCommand("/dev/null"),
  };
  // GIT_CONFIG_COUNT entries are config of the "command" scope: they reach every git process
  // this one starts, but are never written anywhere.
  std::vector<std::pair<std::string, std::string>> kv{{"credential.helper", ""}};
  if (credential) {
    // A redirect (git follows the first one, http.followRedirects=initial) makes git ask its
    // helpers again for the new URL, and curl never forwards Authorization to another host:
    // the scoped helper is what keeps the token from a redirect's target (workspace tests).
    env.push_back("OUTPOST_GIT_TOKEN=" + credential->token);
    kv.emplace_back("credential." + credential->url + ".helper",
                    "!f() { test \"$1\" = get || exit 0; echo username=x-access-token; "
                    "echo \"password=$OUTPOST_GIT_TOKEN\"; }; f");
  }
  for (const auto& c : config) {
    std::size_t eq = c.find('=');
    kv.emplace_back(c.substr(0, eq), eq == std::string::npos ? "" : c.substr(eq + 1));
  }
  env.push_back("GIT_CONFIG_COUNT=" + std::to_string(kv.size()));
  for (std::size_t i = 0; i < kv.size(); ++i) {
    env.push_back("GIT_CONFIG_KEY_" + std::to_string(i) + "=" + kv[i].first);
    env.push_back("GIT_CONFIG_VALUE_" + std::to_string(i) + "=" + kv[i].second);
  }
  return env;
}

namespace {

std::string ShellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string SshCommand(const std::string& known_hosts, const std::string& host_name,
                       const std::string& host_key_alias) {
  std::string cmd =
      "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=none "
      "-o IdentityAgent=none -o PubkeyAuthentication=no -o PasswordAuthentication=no "
      "-o KbdInteractiveAuthentication=no -o GSSAPIAuthentication=no "
      "-o HostbasedAuthentication=no -o ControlPath=none -o ControlMaster=no "
      "-o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o CheckHostIP=no "
      "-o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile=" +
      ShellQuoted(known_hosts);
  if (!host_name.empty()) cmd += " -o HostName=" + ShellQuoted(host_name);
  if (!host_key_alias.empty()) cmd += " -o HostKeyAlias=" + ShellQuoted(host_key_alias);
  return cmd;
}

std::string LastLines(std::string_view text, std::size_t n) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    if (!out.empty()) out += "; ";
    out += lines[i];
  }
  return out;
}

std::string Describe(const GitCommand& cmd, const GitOutput& out) {
  std::string what = "git";
  for (std::size_t i = 1; i < cmd.argv.size(); ++i) {
    if (cmd.argv[i] == "-c" || cmd.argv[i] == "-C") {
      ++i;
    } else if (!cmd.argv[i].starts_with("-")) {
      what += " " + cmd.argv[i];
      break;
    }
  }
  std::string status =
      out.exit_code < 0 ? "was killed" : "exited with code " + std::to_string(out.exit_code);
  std::string msg = LastLines(out.err);
  return what + " " + status + (msg.empty() ? "" : ": " + msg);
}

}  // namespace outpost::workspace
