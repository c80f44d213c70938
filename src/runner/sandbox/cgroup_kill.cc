#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "runner/sandbox/cgroup.h"
#include "runner/sandbox/cgroup_files.h"

// Why freeze around every signal round: a member that forks between our read of cgroup.procs
// and the kill would otherwise escape the round; frozen, the membership cannot change. Under
// v1 a frozen task acts on its pending SIGKILL only once thawed, hence the thaw after each
// round. cgroup.procs does not list zombies, so an empty list means no live member. A failed
// freeze (e.g. a member stuck in D state) does not stop the round: signals still go out.
namespace outpost::sandbox {
namespace {

constexpr Millis kFreezeLimit{1000};
constexpr Millis kRemoveLimit{2000};
constexpr Millis kGracePoll{20};
constexpr Millis kKillPollMax{100};

// The caller's wait (the shim pumps output meanwhile), else a sleep on the clock whose
// deadlines bound the loops.
void Wait(const Clock& clock, const std::function<void(Millis)>& wait, Millis d) {
  if (wait) {
    wait(d);
  } else {
    clock.SleepFor(d);
  }
}

}  // namespace

Status Cgroup::Freeze(Clock& clock, const std::function<void(Millis)>& wait) const {
  const bool v2 = version_ == "v2";
  OUTPOST_RETURN_IF_ERROR(v2 ? cgfs::Write(freezer_dir_ + "/cgroup.freeze", "1")
                             : cgfs::Write(freezer_dir_ + "/freezer.state", "FROZEN"));
  const MonoTime end = clock.Mono() + kFreezeLimit;
  for (;;) {
    bool frozen = v2 ? cgfs::KeyedValue(freezer_dir_ + "/cgroup.events", "frozen") == 1
                     : cgfs::FirstWord(freezer_dir_ + "/freezer.state") == "FROZEN";
    if (frozen) return Status::Ok();
    if (clock.Mono() >= end) return Unavailable("cgroup " + freezer_dir_ + " did not freeze");
    Wait(clock, wait, Millis(1));
  }
}

Status Cgroup::Thaw() const {
  return version_ == "v2" ? cgfs::Write(freezer_dir_ + "/cgroup.freeze", "0")
                          : cgfs::Write(freezer_dir_ + "/freezer.state", "THAWED");
}

int Cgroup::KillAll(int grace_ms, Clock& clock, const KillOptions& opts) const {
  std::set<int> signalled;
  auto signal = [&](int sig, bool polite) {
    for (int pid : Pids()) {
      if (pid <= 1 || pid == ::getpid()) continue;
      if (polite && (signalled.contains(pid) || opts.no_sigterm.contains(pid))) continue;
      if (::kill(pid, sig) == 0) signalled.insert(pid);
    }
  };
  auto frozen_round = [&](int sig, bool polite) {
    (void)Freeze(clock, opts.wait);
    signal(sig, polite);
    (void)Thaw();
  };
  if (Pids().empty()) return 0;
  frozen_round(SIGTERM, true);
  const MonoTime grace_end = clock.Mono() + Millis(grace_ms);
  while (!Pids().empty() && clock.Mono() < grace_end) {
    Wait(clock, opts.wait, kGracePoll);
    signal(SIGTERM, true);  // newcomers forked before the first round landed
  }
  Millis pause{1};
  while (!Pids().empty()) {
    frozen_round(SIGKILL, false);
    Wait(clock, opts.wait, pause);
    pause = std::min(pause * 2, kKillPollMax);
  }
  if (opts.signalled != nullptr) opts.signalled->insert(signalled.begin(), signalled.end());
  return static_cast<int>(signalled.size());
}

bool Cgroup::OomKilled() const {
  const std::string file = version_ == "v2" ? "/memory.events" : "/memory.oom_control";
  return cgfs::KeyedValue(memory_dir_ + file, "oom_kill").value_or(0) > 0;
}

std::optional<std::int64_t> Cgroup::PeakMemory() const {
  return cgfs::Number(memory_dir_ +
                      (version_ == "v2" ? "/memory.peak" : "/memory.max_usage_in_bytes"));
}

Status Cgroup::Remove(Clock& clock) const {
  const MonoTime end = clock.Mono() + kRemoveLimit;
  for (const std::string& dir : dirs_) {
    while (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      if (errno != EBUSY || clock.Mono() >= end) {
        return Unavailable("rmdir " + dir + ": " + std::strerror(errno));
      }
      clock.SleepFor(Millis(10));
    }
  }
  return Status::Ok();
}

}  // namespace outpost::sandbox
