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
#include "common/ids.h"

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

// The NUL-separated strings of /proc/<pid>/cmdline or environ.
std::vector<std::string_view> SplitNul(std::string_view rest) {
  std::vector<std::string_view> out;
  while (!rest.empty()) {
    size_t nul = rest.find('\0');
    out.push_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  return out;
}

// The real and effective uid of a process (the "Uid:" line of /proc/<pid>/status).
std::optional<std::pair<int, int>> RealAndEffectiveUid(int pid) {
  Result<std::string> status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (!status.ok()) return std::nullopt;
  size_t at = status->find("\nUid:");
  if (at == std::string::npos) return std::nullopt;
  char* end = nullptr;
  long real = std::strtol(status->c_str() + at + 5, &end, 10);
  if (end == status->c_str() + at + 5) return std::nullopt;
  const char* eff_start = end;
  long effective = std::strtol(eff_start, &end, 10);
  if (end == eff_start) return std::nullopt;
  return std::pair<int, int>(static_cast<int>(real), static_cast<int>(effective));
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

std::optional<std::string> RunOfCgroup(std::string_view text) {
  // Lines "<hierarchy>:<controllers>:<path>"; the group may sit below a container's own path.
  constexpr std::string_view kSegment = "/outpost/";
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::size_t first = line.find(':');
    std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view path = line.substr(second + 1);
    for (std::size_t at = path.find(kSegment); at != std::string_view::npos;
         at = path.find(kSegment, at + 1)) {
      std::string_view rest = path.substr(at + kSegment.size());
      std::string_view id = rest.substr(0, rest.find('/'));
      if (IsUlid(id)) return std::string(id);
    }
  }
  return std::nullopt;
}

std::map<std::string, std::vector<int>> RunProcesses(std::string_view runs_dir, bool env_markers) {
  std::map<std::string, std::vector<int>> out;
  const std::string prefix = std::string(runs_dir) + "/";
  const std::string kMarker = std::string(kRunIdVariable) + "=";
  const int self_uid = static_cast<int>(::geteuid());
  for (int pid : AllPids()) {
    std::optional<StatInfo> s = ReadStat(pid);
    if (!s || s->state == 'Z') continue;
    const std::string base = "/proc/" + std::to_string(pid);
    Result<std::string> cgroups = ReadFile(base + "/cgroup");
    if (!cgroups.ok()) continue;
    if (std::optional<std::string> id = RunOfCgroup(*cgroups)) {
      out[*id].push_back(pid);
      continue;
    }
    // In any outpost/ group (a malformed name): not attributed by anything it could forge.
    if (cgroups->find("/outpost/") != std::string::npos) continue;
    std::optional<std::pair<int, int>> uids = RealAndEffectiveUid(pid);
    if (!uids || uids->first != self_uid || uids->second != self_uid) continue;
    // A shim: argv = {exe, "shim", "<runs_dir>/<id>"}.
    Result<std::string> cmd = ReadFile(base + "/cmdline");
    if (cmd.ok()) {
      std::vector<std::string_view> argv = SplitNul(*cmd);
      if (argv.size() == 3 && argv[1] == "shim" && argv[2].starts_with(prefix)) {
        std::string_view id = argv[2].substr(prefix.size());
        if (IsUlid(id)) out[std::string(id)].push_back(pid);
        continue;
      }
    }
    if (!env_markers) continue;
    Result<std::string> env = ReadFile(base + "/environ");
    if (!env.ok()) continue;
    for (std::string_view entry : SplitNul(*env)) {
      if (!entry.starts_with(kMarker)) continue;
      std::string_view id = entry.substr(kMarker.size());
      if (IsUlid(id)) out[std::string(id)].push_back(pid);
      break;
    }
  }
  return out;
}

std::set<int> UidsInUse(int lo, int hi) {
  std::set<int> out;
  for (int pid : AllPids()) {
    std::optional<StatInfo> s = ReadStat(pid);
    if (!s || s->state == 'Z') continue;
    std::optional<std::pair<int, int>> uids = RealAndEffectiveUid(pid);
    if (!uids) continue;
    for (int uid : {uids->first, uids->second}) {
      if (uid >= lo && uid <= hi) out.insert(uid);
    }
  }
  return out;
}

}  // namespace outpost::proc
