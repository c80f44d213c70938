#include "core/retention.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <map>
#include <vector>

#include "common/log.h"

namespace outpost {
namespace fs = std::filesystem;

Result<std::int64_t> FreeDiskBytes(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return Internal("statvfs " + path + " failed");
  return static_cast<std::int64_t>(st.f_bavail) * static_cast<std::int64_t>(st.f_frsize);
}

DiskGuard::DiskGuard(std::string path, std::int64_t min_free_bytes, Clock& clock, Millis refresh,
                     Probe probe)
    : path_(std::move(path)),
      min_free_bytes_(min_free_bytes),
      clock_(clock),
      refresh_(refresh),
      probe_(probe ? std::move(probe) : [p = path_] { return FreeDiskBytes(p); }) {}

void DiskGuard::Refresh() {
  const MonoTime now = clock_.Mono();
  if (checked_once_ && now - checked_ < refresh_) return;
  checked_once_ = true;
  checked_ = now;
  auto free = probe_();
  free_ = free.ok() ? std::optional<std::int64_t>(*free) : std::nullopt;
}

bool DiskGuard::Low() {
  if (min_free_bytes_ <= 0) return false;
  std::lock_guard lock(mu_);
  Refresh();
  return free_ && *free_ < min_free_bytes_;
}

std::optional<std::int64_t> DiskGuard::free_bytes() {
  std::lock_guard lock(mu_);
  Refresh();
  return free_;
}

RetentionSweeper::RetentionSweeper(RunStore& store, artifacts::ArtifactStore* local_artifacts,
                                   Runner& runner, Clock& clock, std::chrono::hours max_age,
                                   Millis interval)
    : store_(store),
      artifacts_(local_artifacts),
      runner_(runner),
      clock_(clock),
      max_age_(max_age),
      task_("retention", clock, interval, [this] { SweepAndLog(); }) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

void RetentionSweeper::Start() {
  if (max_age_.count() <= 0) return;
  task_.Start();
}

void RetentionSweeper::Stop() { task_.Stop(); }

RetentionStats RetentionSweeper::totals() const {
  std::lock_guard lock(mu_);
  return totals_;
}

void RetentionSweeper::SweepAndLog() {
  RetentionStats s = SweepOnce();
  if (s.runs_swept + s.objects_deleted > 0 || s.errors > 0) {
    spdlog::info("retention: removed {} run dir(s) and {} artifact(s) older than {} h ({} errors)",
                 s.runs_swept, s.objects_deleted, max_age_.count(), s.errors);
  }
}

// A run's files may go when it ended before `cutoff` and its artifacts are no longer waiting to
// be uploaded. A run the store does not know is judged by its files' age (the caller's).
bool RetentionSweeper::Expired(const RunId& id, WallTime cutoff) {
  auto run = store_.Get(id);
  if (!run.ok()) return false;
  if (!IsTerminal(run->status) || !run->ended_at) return false;
  if (run->artifacts_state == ArtifactsState::kPending) return false;
  return *run->ended_at < cutoff;
}

void RetentionSweeper::RemoveEvents(const RunId& id, RetentionStats& s,
                                    std::set<std::string>& removed) {
  if (!events_ || !removed.insert(id.str()).second) return;
  if (Status st = events_->Remove(id.str()); st.ok()) {
    ++s.event_logs_removed;
  } else {
    ++s.errors;
    spdlog::warn("retention: events of run {}: {}", id.str(), st.ToString());
  }
}

RetentionStats RetentionSweeper::SweepOnce() {
  RetentionStats s;
  std::set<std::string> removed;  // runs whose events went this pass
  if (max_age_.count() <= 0) return s;
  const WallTime cutoff = clock_.Now() - max_age_;
  auto unknown_and_old = [&](const RunId& id, WallTime modified) {
    auto run = store_.Get(id);
    return !run.ok() && run.status().code() == Code::kNotFound && modified < cutoff;
  };

  for (const Runner::KeptRun& kept : runner_.KeptRuns()) {
    if (!Expired(kept.id, cutoff) && !unknown_and_old(kept.id, kept.modified)) continue;
    RemoveEvents(kept.id, s, removed);
    if (Status st = runner_.Discard(kept.id); !st.ok()) {
      ++s.errors;
      spdlog::warn("retention: run {}: {}", kept.id.str(), st.ToString());
    } else {
      ++s.runs_swept;
    }
  }

  if (artifacts_ != nullptr) {
    auto objects = artifacts_->List("dispatches/");
    if (!objects.ok()) {
      ++s.errors;
      spdlog::warn("retention: cannot list artifacts: {}", objects.status().ToString());
    } else {
      std::map<std::string, std::vector<const artifacts::ObjectInfo*>> by_run;
      for (const auto& o : *objects) {
        const std::string rest = o.key.substr(std::string("dispatches/").size());
        by_run[rest.substr(0, rest.find('/'))].push_back(&o);
      }
      for (const auto& [run_id, objs] : by_run) {
        WallTime newest = WallTime::min();
        for (const auto* o : objs) newest = std::max(newest, o->modified);
        if (!Expired(RunId(run_id), cutoff) && !unknown_and_old(RunId(run_id), newest)) continue;
        RemoveEvents(RunId(run_id), s, removed);
        for (const auto* o : objs) {
          if (Status st = artifacts_->Delete(o->key); st.ok()) {
            ++s.objects_deleted;
          } else {
            ++s.errors;
          }
        }
      }
    }
  }
  std::lock_guard lock(mu_);
  totals_.runs_swept += s.runs_swept;
  totals_.objects_deleted += s.objects_deleted;
  totals_.event_logs_removed += s.event_logs_removed;
  totals_.errors += s.errors;
  return s;
}

}  // namespace outpost
