#include "runner/task/task.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>

#include "common/files.h"
#include "common/json_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "runner/event_log.h"

extern char** environ;

namespace outpost::task {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::size_t kBatchBytes = 256 * 1024;
constexpr std::size_t kBatchEvents = 1000;
constexpr milliseconds kControlInterval{1000};
constexpr milliseconds kJournalPoll{100};
constexpr milliseconds kBackoffMin{200};
constexpr milliseconds kBackoffMax{5000};

std::vector<std::string_view> SplitOn(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

void Say(const std::string& message) {
  std::fprintf(stderr, "outpost task: %s\n", message.c_str());
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// One answer of the channel, read from its envelope.
struct Answer {
  enum class Kind { kOk, kUnreachable, kRefused } kind = Kind::kUnreachable;
  int http_status = 0;
  json::object data;       // success: the data
  std::string code;        // error: its code
  std::string message;     // error (or the transport's failure)
  json::object details;    // error: its details
  bool malformed = false;  // a 200 that is not an envelope with a data object
};

class Channel {
 public:
  Channel(const TaskOptions& opts, std::string token) : opts_(opts), token_(std::move(token)) {}

  void set_token(std::string token) { token_ = std::move(token); }

  // `suffix`: "spec", "events", "exit", "control", "bootstrap", "outputs/NAME".
  Answer Call(const std::string& method, const std::string& suffix, std::string body = "") {
    Answer a;
    Result<net::Url> url =
        net::JoinUrl(opts_.channel_url, "internal/v1/runs/" + opts_.run_id + "/" + suffix);
    if (!url.ok()) {
      a.kind = Answer::Kind::kRefused;
      a.message = url.status().message();
      return a;
    }
    net::HttpRequest req;
    req.method = method;
    req.url = *url;
    req.headers = {{"Authorization", "Bearer " + token_}, {"Outpost-Channel-Version", "1.1"}};
    if (method == "POST") req.headers.emplace_back("Content-Type", "application/json");
    if (method == "PUT") req.headers.emplace_back("Content-Type", "application/octet-stream");
    req.body = std::move(body);
    net::TransportOptions t;
    t.timeout = std::chrono::seconds(15);
    t.connect_timeout = std::chrono::seconds(3);
    Result<net::HttpResponse> r = ChannelExchange(req, t, opts_.channel_socket);
    if (!r.ok()) {
      a.message = r.status().message();
      return a;
    }
    a.http_status = r->status;
    Result<json::value> parsed = ParseJson(r->body, 64);
    const json::object* env = parsed.ok() && parsed->is_object() ? &parsed->as_object() : nullptr;
    if (r->status == 200) {
      a.kind = Answer::Kind::kOk;
      const json::value* d = env != nullptr ? env->if_contains("data") : nullptr;
      if (d != nullptr && d->is_object()) {
        a.data = d->as_object();
      } else {
        a.malformed = true;
        a.message = "the answer is not a JSON envelope with a data object";
      }
      return a;
    }
    if (env != nullptr) {
      if (const json::value* e = env->if_contains("error"); e != nullptr && e->is_object()) {
        const json::object& eo = e->as_object();
        a.code = GetString(eo, "code").value_or("");
        a.message = GetString(eo, "message").value_or("");
        if (const json::value* d = eo.if_contains("details"); d != nullptr && d->is_object()) {
          a.details = d->as_object();
        }
      }
    }
    if (a.message.empty()) a.message = "HTTP " + std::to_string(r->status);
    // A throttled or failing control plane (or a proxy in front of it) is retried; an answer
    // about this request is not.
    const bool transient = r->status == 429 || r->status >= 500 || env == nullptr;
    a.kind = transient ? Answer::Kind::kUnreachable : Answer::Kind::kRefused;
    return a;
  }

 private:
  const TaskOptions& opts_;
  std::string token_;
};

std::string Describe(const Answer& a) {
  if (a.http_status == 0) return "the control plane is unreachable: " + a.message;
  return "HTTP " + std::to_string(a.http_status) + (a.code.empty() ? "" : " " + a.code) + ": " +
         a.message;
}

class Backoff {
 public:
  void Failed() {
    delay_ = delay_.count() == 0 ? kBackoffMin : std::min(delay_ * 2, kBackoffMax);
    next_ = Clock::now() + delay_;
  }
  void Succeeded() {
    delay_ = milliseconds(0);
    next_ = {};
  }
  bool Ready() const { return Clock::now() >= next_; }
  Clock::time_point next() const { return next_; }

 private:
  milliseconds delay_{0};
  Clock::time_point next_{};
};

// Blocks the signals the reporter reads from a signalfd (the shim inherits them blocked).
struct Signals {
  sigset_t mask{};
  int fd = -1;
  Status Block() {
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&mask, s);
    if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) {
      return Internal(std::string("sigprocmask: ") + std::strerror(errno));
    }
    fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) return Internal(std::string("signalfd: ") + std::strerror(errno));
    return Status::Ok();
  }
  ~Signals() {
    if (fd >= 0) ::close(fd);
  }
};

class Reporter {
 public:
  Reporter(const TaskOptions& opts, Channel& channel)
      : opts_(opts),
        channel_(channel),
        dir_(opts.run_dir),
        journal_(std::make_unique<EventLogReader>(dir_.File(kEventsFile), 0)) {}

  // While the shim runs: events, control, signals. Returns once the shim has exited.
  void Supervise(int shim_pid, Signals& sig);
  // After it: the remaining events, then the exit record. True when the exit was acknowledged.
  bool Finish();
  // A remote task's outputs (task.h), each retried until `limit`. False when the token was
  // refused or the budget ran out.
  bool SendOutputs(Clock::time_point limit);

 private:
  // One batch of the journal to the channel. False when there was nothing to send or the
  // channel did not take it (then the backoff says when to try again).
  bool SendEvents();
  void PollControl();
  void Cancel(const std::string& reason);
  void HandleSignals(Signals& sig);

  const TaskOptions& opts_;
  Channel& channel_;
  RunDir dir_;
  std::unique_ptr<EventLogReader> journal_;
  std::deque<EventLine> pending_;  // read from the journal, not yet acknowledged
  std::int64_t acked_ = 0;         // the last seq the control plane acknowledged
  bool events_refused_ = false;    // the channel takes no more events (the run ended)
  bool token_refused_ = false;
  bool cancelled_ = false;
  Backoff backoff_;
  Clock::time_point next_control_{};
  int shim_pid_ = -1;
  std::optional<int> shim_status_;
};

bool Reporter::SendEvents() {
  if (events_refused_ || token_refused_ || !backoff_.Ready()) return false;
  if (pending_.size() < kBatchEvents) {
    std::vector<EventLine> more;
    if (Status st = journal_->Read(more, kBatchBytes); !st.ok()) {
      Say("cannot read the journal: " + st.message());
      backoff_.Failed();
      return false;
    }
    for (EventLine& e : more) pending_.push_back(std::move(e));
  }
  if (pending_.empty()) return false;
  std::string body = "{\"events\":[";
  std::size_t n = 0;
  for (const EventLine& e : pending_) {
    if (n == kBatchEvents || (n > 0 && body.size() + e.json.size() > kBatchBytes)) break;
    if (n > 0) body += ',';
    body += e.json;
    ++n;
  }
  body += "]}";
  const std::int64_t last = pending_[n - 1].seq;
  Answer a = channel_.Call("POST", "events", std::move(body));
  if (a.kind == Answer::Kind::kOk) {
    backoff_.Succeeded();
    acked_ = last;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
    return true;
  }
  if (a.kind == Answer::Kind::kUnreachable) {
    backoff_.Failed();
    return false;
  }
  if (a.http_status == 401 || a.http_status == 403) {
    Say("the control plane refused this run's token (" + Describe(a) + ")");
    token_refused_ = true;
    return false;
  }
  if (const json::value* next = a.details.if_contains("nextSeq");
      a.http_status == 409 && next != nullptr && next->is_int64()) {
    // A gap: the control plane has every event before nextSeq; go on from there.
    acked_ = next->as_int64() - 1;
    pending_.clear();
    journal_ = std::make_unique<EventLogReader>(dir_.File(kEventsFile), acked_);
    backoff_.Succeeded();
    return true;
  }
  if (a.details.contains("currentStatus")) {
    Say("the run ended on the control plane; no more events are taken (" + Describe(a) + ")");
  } else {
    Say("events from seq " + std::to_string(pending_.front().seq) + " refused (" + Describe(a) +
        "); no more events are sent");
  }
  events_refused_ = true;
  return false;
}

void Reporter::Cancel(const std::string& reason) {
  if (cancelled_) return;
  cancelled_ = true;
  Say("cancelling the run: " + reason);
  if (!dir_.ReadCancel()) {
    if (Status st = dir_.WriteCancel({reason, std::chrono::system_clock::now()}); !st.ok()) {
      Say("cancel.json not written: " + st.message());
    }
  }
  if (shim_pid_ > 0 && !shim_status_) ::kill(shim_pid_, SIGUSR1);
}

void Reporter::PollControl() {
  if (token_refused_ || Clock::now() < next_control_ || !backoff_.Ready()) return;
  next_control_ = Clock::now() + kControlInterval;
  Answer a = channel_.Call("GET", "control");
  if (a.kind == Answer::Kind::kUnreachable) {
    backoff_.Failed();
    return;
  }
  if (a.kind == Answer::Kind::kRefused) {
    if (a.http_status == 401 || a.http_status == 403) {
      Say("the control plane refused this run's token (" + Describe(a) + ")");
      token_refused_ = true;
      Cancel("the control plane no longer accepts this run attempt");
    }
    return;
  }
  const std::string status = GetString(a.data, "status").value_or("");
  if (GetBool(a.data, "cancelRequested").value_or(false)) {
    Cancel(GetString(a.data, "cancelReason").value_or("cancelled"));
  } else if (!status.empty() && status != "RUNNING" && status != "PENDING") {
    Cancel("the run ended on the control plane (" + status + ")");
  }
}

void Reporter::HandleSignals(Signals& sig) {
  signalfd_siginfo si;
  while (::read(sig.fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) {
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == shim_pid_) shim_status_ = status;
      }
    } else if (shim_pid_ > 0 && !shim_status_) {
      // tini hands docker's signals to us: the shim has the cancel protocol.
      ::kill(shim_pid_, si.ssi_signo == SIGUSR1 ? SIGUSR1 : SIGTERM);
    }
  }
}

void Reporter::Supervise(int shim_pid, Signals& sig) {
  shim_pid_ = shim_pid;
  while (!shim_status_) {
    PollControl();
    const bool sent = SendEvents();
    HandleSignals(sig);
    if (shim_status_) break;
    // A full batch went: at once again; else wait for the journal (or a signal).
    if (sent && !pending_.empty()) continue;
    milliseconds wait = kJournalPoll;
    if (!backoff_.Ready()) {
      wait = std::max(milliseconds(1),
                      std::chrono::duration_cast<milliseconds>(backoff_.next() - Clock::now()));
      wait = std::min(wait, kJournalPoll * 5);
    }
    pollfd p{sig.fd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(wait.count()));
  }
  if (WIFSIGNALED(*shim_status_) || WEXITSTATUS(*shim_status_) != 0) {
    Say("the shim ended abnormally (status " + std::to_string(*shim_status_) + ")");
  }
}

bool Reporter::SendOutputs(Clock::time_point limit) {
  static constexpr std::pair<const char*, const char*> kOutputs[] = {
      {"stdout.log", "stdout"}, {"stderr.log", "stderr"},     {"context.md", "context"},
      {"diff.patch", "diff"},   {"changes.bundle", "bundle"},
  };
  for (const auto& [file, name] : kOutputs) {
    const std::string path = dir_.File(file);
    if (!IsRegularFile(path)) continue;
    Result<std::string> content = ReadFile(path);
    if (!content.ok()) {
      Say(std::string("output ") + name + " not read: " + content.status().message());
      continue;
    }
    if (content->empty() && std::string_view(name) != "stdout") continue;
    Backoff backoff;
    for (;;) {
      Answer a = channel_.Call("PUT", std::string("outputs/") + name, *content);
      if (a.kind == Answer::Kind::kOk) break;
      if (a.kind == Answer::Kind::kRefused) {
        if (a.http_status == 401 || a.http_status == 403) {
          Say("the control plane refused this run's token (" + Describe(a) + ")");
          token_refused_ = true;
          return false;
        }
        // Over a bound, say: the run goes on without it (output.log comes from the events).
        Say(std::string("output ") + name + " refused (" + Describe(a) + ")");
        break;
      }
      if (Clock::now() >= limit) {
        Say(std::string("output ") + name + " not delivered within the retry budget");
        return false;
      }
      backoff.Failed();
      std::this_thread::sleep_until(std::min(backoff.next(), limit));
    }
  }
  return true;
}

bool Reporter::Finish() {
  const Clock::time_point limit = Clock::now() + opts_.retry_budget;
  // Every remaining event first: the control plane ends the run once it has the exit.
  for (;;) {
    if (token_refused_ || events_refused_ || Clock::now() >= limit) break;
    if (SendEvents()) continue;
    // Nothing sent and no backoff: the journal is drained (the shim is gone: it stays so).
    if (backoff_.Ready()) break;
    std::this_thread::sleep_until(std::min(backoff_.next(), limit));
  }
  if (!pending_.empty() && !events_refused_ && !token_refused_) {
    Say("events after seq " + std::to_string(acked_) + " not delivered within the retry budget");
  }
  if (token_refused_) return false;
  Result<ExitRecord> rec = dir_.ReadExit();
  if (!rec.ok()) {
    Say("no exit record to report: " + rec.status().message());
    return false;
  }
  if (!opts_.bootstrap_token.empty()) {
    // No files shared with the control plane: the outputs go over the channel first (the run
    // ends with its exit), the changes with the exit.
    if (!SendOutputs(limit)) return false;
    if (Result<std::string> text = ReadFile(dir_.File("changes.json")); text.ok()) {
      Result<json::value> v = ParseJson(*text, 32);
      if (v.ok() && v->is_object()) {
        rec->changes = v->as_object();
      } else {
        Say("changes.json is malformed; the exit goes without it");
      }
    }
  }
  const std::string body = ToJson(ExitRecordToJson(*rec));
  backoff_.Succeeded();
  while (Clock::now() < limit) {
    Answer a = channel_.Call("POST", "exit", body);
    if (a.kind == Answer::Kind::kOk) {
      Say("exit reported: " + std::string(ToString(rec->outcome)));
      return true;
    }
    if (a.kind == Answer::Kind::kRefused) {
      Say("the exit record was refused (" + Describe(a) + ")");
      return false;
    }
    backoff_.Failed();
    std::this_thread::sleep_until(std::min(backoff_.next(), limit));
  }
  Say("the exit record was not delivered within the retry budget of " +
      std::to_string(opts_.retry_budget.count()) + " s");
  return false;
}

// The spec, fetched with retries while the channel is unreachable.
struct Fetched {
  std::optional<RunSpec> spec;
  std::string error;
  bool malformed = false;  // the control plane answered, with something that is not a spec
};

// True when a signal that stops the task (not SIGCHLD/SIGUSR1) arrived within `wait`.
bool Terminated(Signals& sig, milliseconds wait) {
  pollfd p{sig.fd, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(std::max(wait, milliseconds(0)).count()));
  signalfd_siginfo si;
  bool stop = false;
  while (::read(sig.fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo != SIGCHLD && si.ssi_signo != SIGUSR1) stop = true;
  }
  return stop;
}

Fetched FetchSpec(Channel& channel, const TaskOptions& opts, Signals& sig) {
  const Clock::time_point limit = Clock::now() + opts.retry_budget;
  Backoff backoff;
  Answer a;
  Fetched f;
  for (;;) {
    a = channel.Call("GET", "spec");
    if (a.kind != Answer::Kind::kUnreachable || Clock::now() >= limit) break;
    backoff.Failed();
    const auto wait =
        std::chrono::duration_cast<milliseconds>(std::min(backoff.next(), limit) - Clock::now());
    if (Terminated(sig, wait)) {
      f.error = "terminated before the run spec came (" + Describe(a) + ")";
      return f;
    }
  }
  if (a.kind == Answer::Kind::kUnreachable) {
    f.error = "no run spec within the retry budget of " +
              std::to_string(opts.retry_budget.count()) + " s: " + Describe(a);
    return f;
  }
  if (a.kind == Answer::Kind::kRefused) {
    if (a.http_status == 401 || a.http_status == 403) {
      f.error = "the control plane refused this run's token (" + Describe(a) + ")";
    } else {
      f.error = "the control plane did not give the run spec (" + Describe(a) + ")";
    }
    return f;
  }
  if (a.malformed) {
    f.error = "the control plane's run spec is malformed: " + a.message;
    f.malformed = true;
    return f;
  }
  Result<RunSpec> spec = RunSpecFromJson(a.data);
  if (!spec.ok()) {
    f.error = "the control plane's run spec is malformed: " + spec.status().message();
    f.malformed = true;
    return f;
  }
  if (spec->id.str() != opts.run_id) {
    f.error = "the control plane's run spec is malformed: it is run " + spec->id.str() +
              "'s, not " + opts.run_id + "'s";
    f.malformed = true;
    return f;
  }
  f.spec = std::move(*spec);
  return f;
}

// A run that cannot start (a malformed spec): its story as far as there is one — an `error`
// event and a start_failed exit record in the task directory, reported like a shim's.
Status RecordStartFailure(const RunDir& dir, const std::string& message) {
  auto writer = EventLogWriter::Open(dir.File(kEventsFile), RealClock::Instance(), Millis(5000));
  if (!writer.ok()) return writer.status();
  Result<std::int64_t> seq = (*writer)->Append(event::kError, {{"message", message}});
  if (!seq.ok()) return seq.status();
  (void)(*writer)->Sync();
  writer->reset();
  ExitRecord rec;
  rec.outcome = ExitOutcome::kStartFailed;
  rec.message = message;
  rec.ended_at = std::chrono::system_clock::now();
  return dir.WriteExit(rec);
}

// `<self_exe> shim <run_dir>` with the secrets as fd kSecretsFd.
Result<int> StartShim(const std::string& self_exe, const RunDir& dir, const std::string& secrets) {
  const int secrets_fd = SecretsMemfd(secrets);
  if (secrets_fd < 0) {
    return Internal(std::string("cannot hand the secrets over (memfd): ") + std::strerror(errno));
  }
  std::string exe = self_exe, verb = "shim", path = dir.path();
  char* const argv[] = {exe.data(), verb.data(), path.data(), nullptr};
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(kSecretsFdVariable)) env_strings.emplace_back(*e);
  }
  env_strings.push_back(std::string(kSecretsFdVariable) + "=" + std::to_string(kSecretsFd));
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(secrets_fd);
    return Internal(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // The signals stay blocked through exec: one that comes before the shim reads its signalfd
    // waits there (pending) instead of killing it; the shim unblocks them for what it spawns.
    if (::dup2(secrets_fd, kSecretsFd) < 0) ::_exit(127);
    ::execve(argv[0], argv, envp.data());
    ::_exit(127);
  }
  ::close(secrets_fd);
  return pid;
}

int Report(Reporter& reporter) { return reporter.Finish() ? 0 : 1; }

}  // namespace

Result<TaskOptions> ResolveTaskOptions(const TaskFlags& f) {
  TaskOptions o;
  auto pick = [](const std::string& flag, const char* env) {
    return flag.empty() ? Env(env) : flag;
  };
  o.run_id = pick(f.run_id, "OUTPOST_RUN_ID");
  o.run_dir = pick(f.run_dir, "OUTPOST_TASK_DIR");
  // The channel: a flag names it whole (an environment socket does not apply to --channel-url).
  if (!f.channel_url.empty() || !f.channel_socket.empty()) {
    o.channel_url = f.channel_url;
    o.channel_socket = f.channel_socket;
  } else {
    o.channel_url = Env("OUTPOST_CHANNEL_URL");
    o.channel_socket = Env("OUTPOST_CHANNEL_SOCKET");
  }
  if (!o.channel_socket.empty() && o.channel_url.empty()) o.channel_url = "http://localhost";
  o.token_file = pick(f.token_file, "OUTPOST_CHANNEL_TOKEN_FILE");
  o.bootstrap_token = Env("OUTPOST_BOOTSTRAP_TOKEN");
  if (o.run_dir.empty() && !o.bootstrap_token.empty()) o.run_dir = kRemoteTaskDir;
  if (!f.agent_user.empty()) o.agent_user = f.agent_user;
  if (!f.workspace.empty()) o.workspace = f.workspace;
  if (!f.home.empty()) o.home = f.home;
  if (!f.proxy_socket.empty()) o.proxy_socket = f.proxy_socket;
  if (o.run_id.empty()) return InvalidArgument("no run id: --run-id or OUTPOST_RUN_ID");
  if (o.run_id.find('/') != std::string::npos || o.run_id == "." || o.run_id == "..") {
    return InvalidArgument("bad run id \"" + o.run_id + "\"");
  }
  if (o.run_dir.empty()) return InvalidArgument("no task directory: --run-dir or OUTPOST_TASK_DIR");
  if (o.channel_url.empty()) {
    return InvalidArgument(
        "no run channel: --channel-url / --channel-socket, or OUTPOST_CHANNEL_URL / "
        "OUTPOST_CHANNEL_SOCKET");
  }
  if (Result<net::Url> u = net::ParseUrl(o.channel_url); !u.ok()) {
    return InvalidArgument("channel URL: " + u.status().message());
  }
  if (o.token_file.empty()) o.token_file = o.run_dir + "/channel-token";
  for (const std::string* p : {&o.workspace, &o.home, &o.proxy_socket}) {
    if (p->empty() || p->front() != '/') return InvalidArgument(*p + " is not an absolute path");
  }
  return o;
}

Result<AgentUser> LookUpUser(std::string_view passwd, std::string_view name) {
  for (std::string_view line : SplitOn(passwd, '\n')) {
    std::vector<std::string_view> f = SplitOn(line, ':');
    if (f.size() < 4 || f[0] != name) continue;
    auto num = [](std::string_view s) -> std::optional<int> {
      if (s.empty() || s.size() > 9 ||
          !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
      }
      return std::atoi(std::string(s).c_str());
    };
    std::optional<int> uid = num(f[2]), gid = num(f[3]);
    if (!uid || !gid) {
      return InvalidArgument("the passwd entry of " + std::string(name) + " is malformed");
    }
    if (*uid == 0 || *gid == 0) {
      return InvalidArgument("the agent user " + std::string(name) +
                             " is root (uid or gid 0); the agent never runs as root");
    }
    return AgentUser{*uid, *gid};
  }
  return NotFound("no user " + std::string(name) + " in the passwd file");
}

Result<LaunchSpec> ContainerLaunchSpec(const RunSpec& in, const TaskOptions& opts,
                                       const AgentUser& user, const std::string& path,
                                       const std::string& outpost_exe) {
  if (in.id.str() != opts.run_id) {
    return InvalidArgument("the spec is run " + in.id.str() + "'s, not " + opts.run_id + "'s");
  }
  if (in.argv.empty() || in.argv[0].empty()) return InvalidArgument("the spec has no argv");
  LaunchSpec l;
  l.run_id = in.id.str();
  l.argv = in.argv;
  // Host paths mean nothing here: the command by its name, in the container's PATH.
  if (const std::size_t slash = l.argv[0].rfind('/'); slash != std::string::npos) {
    l.argv[0] = l.argv[0].substr(slash + 1);
    if (l.argv[0].empty()) return InvalidArgument("the spec's argv[0] is a directory");
  }
  l.env = in.env;
  l.env["PATH"] = path.empty() ? kDefaultPath : path;
  l.env["HOME"] = opts.home;
  l.workspace = opts.workspace;
  l.timeout_seconds = in.limits.timeout_seconds;
  l.inactivity_timeout_seconds = in.limits.inactivity_timeout_seconds;
  l.grace_seconds = in.limits.grace_seconds;
  if (in.repo) {
    l.repo_url = in.repo->url;
    l.branch = in.repo->branch;
    l.pin = in.repo->pin;
    l.repo_cache_dir = "";  // private: the host's mirror cache is not in the container
    l.git_token = in.repo->git_token;
    l.git_token_url = in.repo->git_token_url;
    l.git_allow_private_hosts = in.repo->allow_private_hosts;
    l.git_ssh_known_hosts = in.repo->ssh_known_hosts;
    l.local_repo_roots = in.repo->local_repo_roots;
    l.data_dir = in.repo->data_dir;
    l.context_level = in.repo->context_level;
    l.task_arg_index = in.repo->task_arg_index;
  }
  l.redact = in.redact;
  l.home_files = in.home_files;
  l.max_output_bytes = in.limits.max_output_bytes;
  l.parser = in.parser;
  l.verify = in.verify;
  ContainerSpec& c = l.container;
  c.enabled = true;
  c.agent_uid = user.uid;
  c.agent_gid = user.gid;
  c.home = opts.home;
  c.network = std::string(ToString(in.network));
  if (in.network == NetworkPolicy::kAllowlist) {
    c.proxy_socket = opts.proxy_socket;
    c.outpost_exe = outpost_exe;
  }
  return l;
}

Result<net::HttpResponse> ChannelExchange(const net::HttpRequest& request,
                                          const net::TransportOptions& options,
                                          const std::string& socket) {
  net::TransportOptions o = options;
  o.unix_socket = socket;  // "" = TCP to the URL
  return net::SendHttp(request, o);
}

// The run's channel token for the one-use bootstrap token (retried while unreachable).
Result<std::string> ExchangeBootstrap(Channel& channel, const TaskOptions& opts, Signals& sig) {
  const Clock::time_point limit = Clock::now() + opts.retry_budget;
  Backoff backoff;
  for (;;) {
    Answer a = channel.Call("POST", "bootstrap");
    if (a.kind == Answer::Kind::kOk) {
      std::string token = GetString(a.data, "token").value_or("");
      if (token.empty()) return Internal("the bootstrap answer holds no token");
      return token;
    }
    if (a.kind == Answer::Kind::kRefused) {
      return Status(Code::kUnauthenticated,
                    "the bootstrap token was refused (" + Describe(a) + ")");
    }
    if (Clock::now() >= limit) {
      return Unavailable("no bootstrap within the retry budget: " + Describe(a));
    }
    backoff.Failed();
    const auto wait =
        std::chrono::duration_cast<milliseconds>(std::min(backoff.next(), limit) - Clock::now());
    if (Terminated(sig, wait)) return Unavailable("terminated before the bootstrap");
  }
}

int RunTask(const TaskOptions& in_opts, const std::string& self_exe) {
  TaskOptions opts = in_opts;
  // Neither the shim nor anything it starts inherits the bootstrap token.
  ::unsetenv("OUTPOST_BOOTSTRAP_TOKEN");
  if (!opts.bootstrap_token.empty() && !FileExists(opts.token_file)) {
    Signals sig;
    if (Status st = sig.Block(); !st.ok()) {
      Say(st.message());
      return 1;
    }
    Channel boot(opts, opts.bootstrap_token);
    Result<std::string> exchanged = ExchangeBootstrap(boot, opts, sig);
    if (!exchanged.ok()) {
      Say(exchanged.status().message());
      return 1;
    }
    if (Status st = MakeDirs(opts.run_dir, 0700); !st.ok()) {
      Say("task directory: " + st.message());
      return 1;
    }
    if (Status st = WriteFileAtomic(opts.token_file, *exchanged, 0600); !st.ok()) {
      Say("the channel token not kept: " + st.message());
      return 1;
    }
    Say("bootstrapped: the run channel's token obtained");
  }
  Result<std::string> token = ReadFile(opts.token_file);
  if (!token.ok()) {
    Say("cannot read the run channel's token: " + token.status().message());
    return 1;
  }
  const std::string secret(Trim(*token, " \t\r\n"));
  if (secret.empty()) {
    Say("the run channel's token file " + opts.token_file + " is empty");
    return 1;
  }
  Channel channel(opts, secret);
  RunDir dir(opts.run_dir);
  if (Status st = MakeDirs(dir.path(), 0700); !st.ok()) {
    Say("task directory: " + st.message());
    return 1;
  }
  Signals sig;
  if (Status st = sig.Block(); !st.ok()) {
    Say(st.message());
    return 1;
  }
  Reporter reporter(opts, channel);
  Fetched fetched = FetchSpec(channel, opts, sig);
  if (!fetched.spec) {
    Say(fetched.error);
    if (!fetched.malformed) return 1;
    // What there is to report: the error, and a start_failed exit.
    if (Status st = RecordStartFailure(dir, fetched.error); !st.ok()) {
      Say("the failure is not recorded: " + st.message());
      return 1;
    }
    Report(reporter);
    return 1;
  }
  auto fail_start = [&](const std::string& message) {
    Say(message);
    if (Status st = RecordStartFailure(dir, message); !st.ok()) {
      Say("the failure is not recorded: " + st.message());
      return 1;
    }
    return Report(reporter);
  };
  Result<std::string> passwd = ReadFile(opts.passwd_file);
  if (!passwd.ok())
    return fail_start("cannot read " + opts.passwd_file + ": " + passwd.status().message());
  Result<AgentUser> user = LookUpUser(*passwd, opts.agent_user);
  if (!user.ok()) return fail_start("the agent user: " + user.status().message());
  Result<LaunchSpec> launch =
      ContainerLaunchSpec(*fetched.spec, opts, *user, Env("PATH"), self_exe);
  if (!launch.ok()) return fail_start(launch.status().message());
  if (FileExists(dir.File("spec.json"))) {
    Say("the task directory already holds a run (spec.json): not started again");
    return 1;
  }
  if (Status st = dir.WriteSpec(*launch); !st.ok()) return fail_start("spec.json: " + st.message());
  Result<int> shim = StartShim(self_exe, dir, SecretsToJson(*launch));
  if (!shim.ok()) return fail_start("the shim did not start: " + shim.status().message());
  Say("run " + opts.run_id + " started (shim pid " + std::to_string(*shim) + ")");
  reporter.Supervise(*shim, sig);
  return Report(reporter);
}

}  // namespace outpost::task
