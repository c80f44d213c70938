#include "runner/run_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>

#include "agents/outcome.h"
#include "common/files.h"
#include "common/log.h"
#include "runner/netproxy/blocked_log.h"
#include "workspace/collect.h"

namespace outpost {
namespace {

// What the last 64 KiB of a run's events say about its progress: the highest agent turn and
// whether the shim has moved on to collecting. For runs of a shim that writes no
// progress.json (an older binary's, adopted after an upgrade). Cheap whatever the log's size.
RunProgress ScanEventsTail(const std::string& path) {
  constexpr std::size_t kTailWindow = 64 * 1024;
  RunProgress p;
  // Audit F3: like ReadRunFile (run_dir.h), never through a link, never a FIFO or a device.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return p;
  struct stat st;
  std::string buf;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    const off_t start = st.st_size > static_cast<off_t>(kTailWindow) ? st.st_size - kTailWindow : 0;
    buf.resize(static_cast<std::size_t>(st.st_size - start));
    ssize_t n = ::pread(fd, buf.data(), buf.size(), start);
    buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  ::close(fd);
  std::string_view text(buf);
  for (std::size_t pos = 0, nl; (nl = text.find('\n', pos)) != std::string_view::npos;
       pos = nl + 1) {
    std::string_view line = text.substr(pos, nl - pos);
    std::optional<EventLine> e = ParseEventPrefix(line);
    if (!e) continue;
    if (e->type == event::kPhase && line.find("\"phase\":\"collecting\"") != line.npos) {
      p.collecting = true;
    }
    if (e->type != event::kAgentMessage) continue;
    // The agent's text is a JSON string, where a quote is escaped: `,"turn":` is the field.
    constexpr std::string_view kTurn = ",\"turn\":";
    std::size_t at = line.rfind(kTurn);
    if (at == std::string_view::npos) continue;
    int t = 0;
    const char* first = line.data() + at + kTurn.size();
    std::from_chars(first, line.data() + line.size(), t);
    p.turns = std::max(p.turns, t);
  }
  return p;
}

class DirEventWatch final : public EventWatch {
 public:
  explicit DirEventWatch(std::unique_ptr<DirWatcher::Subscription> sub) : sub_(std::move(sub)) {}

 private:
  std::unique_ptr<DirWatcher::Subscription> sub_;
};

}  // namespace

bool IsPlainRunId(const std::string& id) {
  return !id.empty() && id.find('/') == std::string::npos && id != "." && id != "..";
}

RunFiles::RunFiles(std::string runs_dir)
    : runs_dir_(std::filesystem::absolute(runs_dir).string()) {}

RunDir RunFiles::Dir(const std::string& run_id) const { return RunDir(runs_dir_ + "/" + run_id); }

std::string RunFiles::OutputPath(const RunId& id, RunOutput what) const {
  RunDir dir = Dir(id.str());
  switch (what) {
    case RunOutput::kStdout:
      return dir.File("stdout.log");
    case RunOutput::kStderr:
      return dir.File("stderr.log");
    case RunOutput::kEvents:
      return dir.File(kEventsFile);
    case RunOutput::kContext:
      return dir.File("context.md");
    case RunOutput::kDiff:
      return dir.File("diff.patch");
    case RunOutput::kBundle:
      return dir.File("changes.bundle");
  }
  return dir.File("unknown");
}

Result<EventBatch> RunFiles::ReadEvents(const RunId& id, std::int64_t after,
                                        std::size_t max_bytes) {
  constexpr std::size_t kMaxReaders = 256;
  if (after < 0) return InvalidArgument("after must be >= 0");
  std::unique_ptr<EventLogReader> reader;
  {
    std::lock_guard lock(mu_);
    if (auto it = readers_.find({id.str(), after}); it != readers_.end()) {
      reader = std::move(it->second);
      readers_.erase(it);
    }
  }
  if (!reader) {
    reader = std::make_unique<EventLogReader>(OutputPath(id, RunOutput::kEvents), after);
  }
  EventBatch batch;
  OUTPOST_RETURN_IF_ERROR(reader->Read(batch.events, max_bytes));
  batch.ended = reader->ended();
  if (!batch.ended && reader->exists()) {
    std::lock_guard lock(mu_);
    if (readers_.size() >= kMaxReaders) readers_.clear();
    readers_[{id.str(), reader->last_seq()}] = std::move(reader);
  }
  return batch;
}

Result<std::unique_ptr<EventWatch>> RunFiles::WatchEvents(const RunId& id,
                                                          std::function<void()> wake) {
  DirWatcher* watcher = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!watcher_ && !watcher_failed_) {
      auto w = DirWatcher::Create();
      if (w.ok()) {
        watcher_ = std::move(*w);
      } else {
        // Followers still work, looking at the stream every poll interval instead.
        watcher_failed_ = true;
        spdlog::warn("event followers will poll: {}", w.status().ToString());
        return Unavailable("cannot watch event streams: " + w.status().ToString());
      }
    }
    watcher = watcher_.get();
  }
  if (!watcher) return Unavailable("cannot watch event streams (no inotify)");
  auto sub = watcher->Subscribe(Dir(id.str()).path(), std::string(kEventsFile), std::move(wake));
  if (!sub.ok()) return sub.status();
  return std::unique_ptr<EventWatch>(std::make_unique<DirEventWatch>(std::move(*sub)));
}

Result<std::unique_ptr<ByteSource>> RunFiles::OpenOutput(const RunId& id, RunOutput what) {
  return OpenFileSource(OutputPath(id, what));
}

std::optional<ExitRecord> RunFiles::ReadExit(const RunId& id) const {
  RunDir dir = Dir(id.str());
  Result<ExitRecord> rec = dir.ReadExit();
  if (!rec.ok()) return std::nullopt;
  if (!rec->agent) {
    // A record of an older shim: the agent's result is read from its output, as then.
    Result<LaunchSpec> spec = dir.ReadSpec();
    AgentOptions parse;
    parse.parser = spec.ok() ? spec->parser : "plain";
    rec->agent = ReadAgentResult(parse, dir.File("stdout.log"));
  }
  return std::move(rec).value();
}

std::optional<WallTime> RunFiles::Started(const RunId& id) const {
  return Dir(id.str()).ReadStarted();
}

std::optional<Changes> RunFiles::ChangesOf(const RunId& id) const {
  const std::string path = Dir(id.str()).File("changes.json");
  if (!IsRegularFile(path)) return std::nullopt;  // audit F3: never a link, FIFO or device
  auto cs = workspace::ReadChanges(path);
  if (!cs.ok()) return std::nullopt;
  return static_cast<Changes&&>(std::move(*cs));
}

RunProgress RunFiles::Progress(const RunId& id) const {
  RunDir dir = Dir(id.str());
  if (std::optional<RunProgress> p = dir.ReadProgress()) return *p;
  return ScanEventsTail(dir.File(kEventsFile));
}

std::vector<BlockedConnection> RunFiles::Blocked(const RunId& id) const {
  std::vector<BlockedConnection> out;
  const std::string path = Dir(id.str()).File("network-blocked.jsonl");
  if (!IsRegularFile(path)) return out;  // audit F3: never a link, FIFO or device
  auto attempts = netproxy::ReadBlocked(path);
  if (!attempts.ok()) return out;
  for (const auto& a : *attempts) out.push_back({a.host, a.port, a.at});
  return out;
}

std::vector<Runner::KeptRun> RunFiles::KeptRuns() const {
  std::vector<Runner::KeptRun> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(runs_dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_directory()) continue;
    WallTime modified = WallTime::max();  // unreadable: never old
    struct stat st;
    if (::stat(it->path().c_str(), &st) == 0) {
      modified = WallTime(
          std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(st.st_mtim.tv_sec)));
    }
    out.push_back({RunId(it->path().filename().string()), modified});
  }
  return out;
}

Status RunFiles::Discard(const RunId& id) {
  if (!IsPlainRunId(id.str())) return InvalidArgument("bad run id: " + id.str());
  {
    std::lock_guard lock(mu_);
    std::erase_if(readers_, [&](const auto& r) { return r.first.first == id.str(); });
  }
  std::error_code ec;
  std::filesystem::remove_all(Dir(id.str()).path(), ec);
  if (ec) return Internal("cannot remove " + Dir(id.str()).path() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace outpost
