#include "runner/proc.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include "common/files.h"

namespace outpost::proc {
namespace {

// Pids listed in /proc (threads are hidden from readdir, so these are processes).
std::vector<int> AllPids() {
  std::vector<int> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<int>(pid));
  }
  ::closedir(d);
  return pids;
}

bool EnvironHas(int pid, std::string_view marker) {
  Result<std::string> env = ReadFile("/proc/" + std::to_string(pid) + "/environ");
  if (!env.ok()) return false;
  std::string_view rest = *env;
  while (!rest.empty()) {
    size_t nul = rest.find('\0');
    std::string_view entry = rest.substr(0, nul);
    if (entry == marker) return true;
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  return false;
}

// Reaps the processes we have seen that are our own children (waitpid on anybody else's
// pid fails with ECHILD, harmlessly). Only seen pids, never -1: in the server, waitpid(-1)
// would steal the exit status of children that belong to other components.
void ReapSeen(const std::set<int>& seen, const KillHooks& hooks) {
  for (int pid : seen) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid && hooks.on_reap) hooks.on_reap(pid, status);
  }
}

// Lists, then sends sig to every listed pid (only to those not seen before when
// `only_new`, so that a process handling SIGTERM gets it once); returns the list. Adds the
// signalled pids to `seen`. Never signals init or ourselves, whatever the list says.
std::vector<int> SignalAll(const std::function<std::vector<int>()>& list, int sig, bool only_new,
                           std::set<int>& seen) {
  std::vector<int> pids = list();
  for (int pid : pids) {
    if (pid <= 1 || pid == ::getpid() || (only_new && seen.contains(pid))) continue;
    if (::kill(pid, sig) == 0) seen.insert(pid);
  }
  return pids;
}

constexpr Millis kPollInterval{20};
constexpr Millis kKillInterval{5};

}  // namespace

std::optional<StatInfo> ParseStat(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // After ") " come field 3 (state), 4 (ppid), ... 22 (starttime).
  std::string rest(stat.substr(close + 1));
  std::vector<std::string> fields;
  size_t pos = 0;
  while (fields.size() < 20) {
    pos = rest.find_first_not_of(' ', pos);
    if (pos == std::string::npos) break;
    size_t end = rest.find(' ', pos);
    fields.push_back(rest.substr(pos, end == std::string::npos ? end : end - pos));
    pos = end;
  }
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  StatInfo info;
  info.state = fields[0][0];
  char* end = nullptr;
  info.ppid = static_cast<int>(std::strtol(fields[1].c_str(), &end, 10));
  if (*end != '\0') return std::nullopt;
  info.start_time = std::strtoull(fields[19].c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return info;
}

std::optional<StatInfo> ReadStat(int pid) {
  if (pid <= 0) return std::nullopt;
  Result<std::string> text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return std::nullopt;
  return ParseStat(*text);
}

std::optional<std::uint64_t> StartTime(int pid) {
  std::optional<StatInfo> s = ReadStat(pid);
  if (!s) return std::nullopt;
  return s->start_time;
}

std::optional<int> ParentOf(int pid) {
  std::optional<StatInfo> s = ReadStat(pid);
  if (!s) return std::nullopt;
  return s->ppid;
}

std::optional<int> InnermostNsPid(int pid) {
  Result<std::string> status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (!status.ok()) return std::nullopt;
  size_t at = status->find("\nNSpid:");
  if (at == std::string::npos) return std::nullopt;
  size_t eol = status->find('\n', at + 1);
  std::string line = status->substr(at + 1, eol == std::string::npos ? eol : eol - at - 1);
  size_t last = line.find_last_of(" \t");
  if (last == std::string::npos) return std::nullopt;
  return std::atoi(line.c_str() + last + 1);
}

std::vector<int> Descendants(int root_pid) {
  std::multimap<int, int> children;  // ppid -> pid, live processes only
  for (int pid : AllPids()) {
    std::optional<StatInfo> s = ReadStat(pid);
    if (s && s->state != 'Z') children.emplace(s->ppid, pid);
  }
  std::vector<int> out;
  std::vector<int> frontier{root_pid};
  while (!frontier.empty()) {
    int parent = frontier.back();
    frontier.pop_back();
    auto [b, e] = children.equal_range(parent);
    for (auto it = b; it != e; ++it) {
      out.push_back(it->second);
      frontier.push_back(it->second);
    }
  }
  return out;
}

std::vector<int> FindByEnvMarker(std::string_view marker) {
  std::vector<int> out;
  for (int pid : AllPids()) {
    std::optional<StatInfo> s = ReadStat(pid);
    if (s && s->state != 'Z' && EnvironHas(pid, marker)) out.push_back(pid);
  }
  return out;
}

bool IsAlive(const ShimInfo& info) {
  std::optional<StatInfo> s = ReadStat(info.pid);
  return s && s->state != 'Z' && s->start_time == info.start_time;
}

int KillAndVerify(const std::function<std::vector<int>()>& list, int grace_ms, Clock& clock,
                  const KillHooks& hooks) {
  const auto wait = hooks.wait ? hooks.wait : SleepOn(clock);
  std::set<int> seen;
  const MonoTime grace_end = clock.Mono() + Millis(grace_ms);
  // Polite phase: newcomers (forked after the first scan) get SIGTERM too.
  for (std::vector<int> pids = SignalAll(list, SIGTERM, true, seen); !pids.empty();
       pids = SignalAll(list, SIGTERM, true, seen)) {
    if (clock.Mono() >= grace_end) break;
    wait(kPollInterval);
    ReapSeen(seen, hooks);
  }
  // Forceful phase: loop until a scan comes back empty.
  const MonoTime hard_end = clock.Mono() + kHardLimit;
  while (!SignalAll(list, SIGKILL, false, seen).empty() && clock.Mono() < hard_end) {
    wait(kKillInterval);
    ReapSeen(seen, hooks);
  }
  ReapSeen(seen, hooks);
  return static_cast<int>(seen.size());
}

std::map<std::string, std::vector<int>> RunProcesses(std::string_view runs_dir) {
  std::map<std::string, std::vector<int>> out;
  const std::string prefix = std::string(runs_dir) + "/";
  const std::string kMarker = std::string(kRunIdVariable) + "=";
  for (int pid : AllPids()) {
    std::optional<StatInfo> s = ReadStat(pid);
    if (!s || s->state == 'Z') continue;
    // A shim: argv = {exe, "shim", "<runs_dir>/<id>"}.
    Result<std::string> cmd = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmd.ok()) {
      std::vector<std::string_view> argv;
      std::string_view rest = *cmd;
      while (!rest.empty()) {
        size_t nul = rest.find('\0');
        argv.push_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
      }
      if (argv.size() == 3 && argv[1] == "shim" && argv[2].starts_with(prefix)) {
        out[std::string(argv[2].substr(prefix.size()))].push_back(pid);
        continue;
      }
    }
    Result<std::string> env = ReadFile("/proc/" + std::to_string(pid) + "/environ");
    if (!env.ok()) continue;
    std::string_view rest = *env;
    while (!rest.empty()) {
      size_t nul = rest.find('\0');
      std::string_view entry = rest.substr(0, nul);
      if (entry.starts_with(kMarker)) {
        out[std::string(entry.substr(kMarker.size()))].push_back(pid);
        break;
      }
      if (nul == std::string_view::npos) break;
      rest.remove_prefix(nul + 1);
    }
  }
  return out;
}

}  // namespace outpost::proc
