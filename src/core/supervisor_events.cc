// Supervisor: the terminal events of a run's stream and its progress estimate.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "common/log.h"
#include "core/progress.h"
#include "core/run_events.h"
#include "core/supervisor.h"

namespace outpost {
namespace {

constexpr auto kProgressInterval = std::chrono::seconds(2);
constexpr std::size_t kTailWindow = 64 * 1024;

// What the last kTailWindow bytes of a run's events say about its progress: the highest agent
// turn and whether the shim has moved on to collecting. Cheap whatever the log's size.
void ScanTail(const std::string& path, int& turns, bool& collecting) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  std::string buf;
  if (::fstat(fd, &st) == 0) {
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
      collecting = true;
    }
    if (e->type != event::kAgentMessage) continue;
    // The agent's text is a JSON string, where a quote is escaped: `,"turn":` is the field.
    constexpr std::string_view kTurn = ",\"turn\":";
    std::size_t at = line.rfind(kTurn);
    if (at == std::string_view::npos) continue;
    int t = 0;
    const char* first = line.data() + at + kTurn.size();
    std::from_chars(first, line.data() + line.size(), t);
    turns = std::max(turns, t);
  }
}

}  // namespace

void Supervisor::RecordEnd(const RunId& id) {
  auto run = store_.Get(id);
  if (!run.ok() || !IsTerminal(run->status)) return;
  auto end = AppendTerminalEvents(runner_.Dir(id.str()).path(), *run, clock_);
  // No directory: the run never started, and its followers get the synthesized end.
  if (!end.ok() && end.status().code() != Code::kNotFound) {
    spdlog::warn("run {}: end event not written yet ({}); its followers will write it", id.str(),
                 end.status().ToString());
  }
}

void Supervisor::RefreshProgress(const Run& run) {
  if (progress_.size() > 4096) progress_.clear();  // runs that ended; rebuilt as needed
  ProgressState& ps = progress_[run.id.str()];
  const MonoTime now = clock_.Mono();
  if (now < ps.next) return;
  ps.next = now + kProgressInterval;
  ScanTail(runner_.Dir(run.id.str()).File(kEventsFile), ps.turns, ps.collecting);
  ProgressInputs in;
  in.status = run.status;
  in.phase = ps.collecting ? kPhaseCollecting : std::string_view(run.phase);
  in.agent_turns = ps.turns;
  in.elapsed =
      std::chrono::duration_cast<Millis>(clock_.Now() - run.started_at.value_or(run.created_at));
  in.timeout_seconds = run.timeout_seconds;
  const int p = EstimateProgress(in);
  if (p <= run.progress) return;
  UpdateRun(run.id, [p](Run& r) {
    if (r.status != RunStatus::kRunning || r.progress >= p) return FailedPrecondition("unchanged");
    r.progress = p;
    return Status::Ok();
  });
}

}  // namespace outpost
