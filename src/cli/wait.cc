#include "cli/wait.h"

#include <boost/json/serialize.hpp>
#include <ostream>

#include "cli/format.h"
#include "common/json_util.h"

namespace outpost::cli {
namespace {

// The display state of one wait; everything is written from the waiting thread.
class Progress {
 public:
  Progress(std::string_view run_id, bool json, const ClientIo& io, const Clock& clock)
      : run_id_(run_id), json_(json), io_(io), clock_(clock), start_(clock.Mono()) {}

  void Update(std::string status, std::string phase) {
    status_ = std::move(status);
    phase_ = std::move(phase);
    if (unreachable_ && !io_.tty) *io_.err << "outpost: server reachable again\n";
    unreachable_ = false;
    Show("");
  }

  void Unreachable(const Status& why) {
    if (io_.tty && !json_) {
      Show("server unreachable, retrying");
    } else if (!unreachable_) {
      *io_.err << "outpost: server unreachable, retrying: " << why.message() << "\n";
    }
    unreachable_ = true;
  }

  // Clears the live line before the final output or an error.
  void Finish() {
    if (drawn_) *io_.out << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  void Show(std::string_view note) {
    if (json_) return;
    auto elapsed = std::chrono::duration_cast<Millis>(clock_.Mono() - start_);
    std::string line = FormatProgress(run_id_, status_, phase_, elapsed, note);
    if (io_.tty) {
      *io_.out << "\r\033[K" << line << std::flush;
      drawn_ = true;
    } else if (status_ + "/" + phase_ != last_printed_) {
      *io_.out << line << "\n" << std::flush;
      last_printed_ = status_ + "/" + phase_;
    }
  }

  std::string run_id_;
  bool json_;
  const ClientIo& io_;
  const Clock& clock_;
  MonoTime start_;
  std::string status_ = "?", phase_, last_printed_;
  bool drawn_ = false, unreachable_ = false;
};

}  // namespace

bool IsTerminalStatus(std::string_view s) {
  return s == "COMPLETED" || s == "FAILED" || s == "TIMEOUT" || s == "CANCELLED";
}

int WaitForRun(ApiClient& client, std::string_view run_id, bool json, const ClientIo& io) {
  const Clock& clock = io.clock ? *io.clock : RealClock::Instance();
  Progress progress(run_id, json, io, clock);

  RequestOptions retry;
  retry.read_timeout = io.request_timeout;
  retry.retry_for = io.unreachable_grace;
  retry.retry_backoff = io.retry_backoff;
  retry.retry_on_5xx = true;  // GET is idempotent
  retry.clock = &clock;
  retry.sleep = SleepOn(clock);
  retry.on_retry = [&](const Status& why) { progress.Unreachable(why); };

  for (;;) {
    auto run = client.GetRun(run_id, &retry);
    if (run.ok() && !run->is_object())
      run = Internal("the server answered a run that is not an object");
    if (!run.ok()) {
      progress.Finish();
      *io.err << FormatError(run.status());
      return ExitCodeForError(run.status());
    }
    const auto& obj = run->as_object();
    std::string status = GetString(obj, "status").value_or("");
    if (IsTerminalStatus(status)) {
      progress.Finish();
      if (json) {
        *io.out << ToJson(obj) << "\n";
      } else {
        *io.out << FormatFinalSummary(obj);
      }
      return ExitCodeForRunStatus(status);
    }
    progress.Update(status, GetString(obj, "phase").value_or(""));
    clock.SleepFor(io.poll_interval);
  }
}

}  // namespace outpost::cli
