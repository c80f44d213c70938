#include "cli/monitor.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/json_util.h"
#include "common/time_util.h"
#include "metrics/exposition.h"
#include "metrics/metrics.h"
#include "metrics/text_parser.h"

namespace outpost::cli {
namespace json = boost::json;
namespace {

using std::chrono::minutes;

// "HTTP 403 AUTHORIZATION_ERROR: API key lacks the required scope: admin" (the envelope's error,
// when there is one), "HTTP 404", "no answer: …".
std::string ProbeError(const ProbeResult& p) {
  if (!p.answered) return "no answer: " + p.error;
  std::string out = fmt::format("HTTP {}", p.status);
  auto v = ParseJson(p.body);
  const json::value* e = v.ok() && v->is_object() ? v->as_object().if_contains("error") : nullptr;
  if (e && e->is_object()) {
    if (auto code = GetString(e->as_object(), "code")) out += " " + *code;
    if (auto message = GetString(e->as_object(), "message")) out += ": " + *message;
  }
  return out;
}

// The key was not good enough for the route (none, invalid, or without its scope).
bool Refused(const ProbeResult& p) { return p.answered && (p.status == 401 || p.status == 403); }

std::string JsonStatus(const ProbeResult& p) {
  auto v = ParseJson(p.body);
  if (!v.ok() || !v->is_object()) return "";
  return GetString(v->as_object(), "status").value_or("");
}

json::object ProbeToJson(const ProbeResult& p) {
  json::object o{
      {"answered", p.answered}, {"status", p.status}, {"ms", std::round(p.ms * 10) / 10}};
  if (!p.error.empty()) o["error"] = p.error;
  return o;
}

ProbeResult ProbeFromJson(const json::value* v) {
  ProbeResult p;
  if (!v || !v->is_object()) return p;
  const json::object& o = v->as_object();
  p.answered = GetBool(o, "answered").value_or(false);
  p.status = int(GetInt(o, "status").value_or(0));
  if (const json::value* ms = o.if_contains("ms"); ms && ms->is_number()) {
    p.ms = ms->to_number<double>();
  }
  p.error = GetString(o, "error").value_or("");
  return p;
}

double Num(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0;
}

json::object CountersToJson(const ServerCounters& c) {
  json::array latency;
  for (double n : c.latency) latency.emplace_back(n);
  return {{"startTime", c.start_time},
          {"requests", c.requests},
          {"errors", c.errors},
          {"latency", std::move(latency)},
          {"runsCompleted", c.runs_completed},
          {"runsFailed", c.runs_failed},
          {"runsTimeout", c.runs_timeout},
          {"runsCancelled", c.runs_cancelled}};
}

ServerCounters CountersFromJson(const json::object& o) {
  ServerCounters c;
  c.start_time = Num(o, "startTime");
  c.requests = Num(o, "requests");
  c.errors = Num(o, "errors");
  if (const json::value* l = o.if_contains("latency"); l && l->is_array()) {
    for (const json::value& n : l->as_array())
      c.latency.push_back(n.is_number() ? n.to_number<double>() : 0);
  }
  c.runs_completed = Num(o, "runsCompleted");
  c.runs_failed = Num(o, "runsFailed");
  c.runs_timeout = Num(o, "runsTimeout");
  c.runs_cancelled = Num(o, "runsCancelled");
  return c;
}

std::uint64_t Count(double v) { return v > 0 ? static_cast<std::uint64_t>(std::llround(v)) : 0; }

// this - base, or nullopt when the counters restarted (another process, or one went down).
std::optional<metrics::SloCounts> Delta(const ServerCounters& now, const ServerCounters& base) {
  if (now.start_time != base.start_time || now.requests < base.requests ||
      now.latency.size() != base.latency.size()) {
    return std::nullopt;
  }
  metrics::SloCounts d;
  d.requests = Count(now.requests - base.requests);
  d.errors = Count(now.errors - base.errors);
  d.runs_succeeded = Count(now.runs_completed - base.runs_completed);
  d.runs_finished = d.runs_succeeded + Count(now.runs_failed - base.runs_failed) +
                    Count(now.runs_timeout - base.runs_timeout);
  for (std::size_t i = 0; i < now.latency.size(); ++i) {
    d.latency.push_back(Count(now.latency[i] - base.latency[i]));
  }
  return d;
}

metrics::SloCounts Since(const ServerCounters& now) {
  ServerCounters zero;
  zero.start_time = now.start_time;
  zero.latency.assign(now.latency.size(), 0);
  return *Delta(now, zero);
}

std::string Pct(const std::optional<double>& v) {
  return v ? fmt::format("{:.2f}%", *v) : "no data";
}

std::string Minutes(WallTime::duration d) {
  return fmt::format("{:.1f} min", std::chrono::duration<double, std::ratio<60>>(d).count());
}

std::string TimeOfDay(WallTime t) { return FormatTime(t).substr(11, 8); }

}  // namespace

Result<ServerCounters> CountersFromMetrics(std::string_view text) {
  auto parsed = metrics::ParseText(text);
  if (!parsed.ok()) return parsed.status();
  ServerCounters c;
  c.start_time = parsed->Value("process_start_time_seconds").value_or(0);
  for (const metrics::ParsedSample& s : parsed->samples) {
    if (s.name != "outpost_http_requests_total") continue;
    c.requests += s.value;
    auto code = s.labels.find("code");
    if (code != s.labels.end() && code->second.size() == 3 && code->second[0] == '5')
      c.errors += s.value;
  }
  double before = 0;
  const auto& bounds = metrics::LatencyBuckets();
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le = i < bounds.size() ? metrics::FormatValue(bounds[i]) : "+Inf";
    const double cumulative =
        parsed->Sum("outpost_http_request_duration_seconds_bucket", {{"le", le}});
    c.latency.push_back(std::max(0.0, cumulative - before));
    before = cumulative;
  }
  const char* runs = "outpost_run_duration_seconds_count";
  c.runs_completed = parsed->Sum(runs, {{"status", "COMPLETED"}});
  c.runs_failed = parsed->Sum(runs, {{"status", "FAILED"}});
  c.runs_timeout = parsed->Sum(runs, {{"status", "TIMEOUT"}});
  c.runs_cancelled = parsed->Sum(runs, {{"status", "CANCELLED"}});
  return c;
}

json::object SampleToJson(const MonitorSample& s) {
  json::object o{{"type", "sample"},
                 {"t", FormatTime(s.t)},
                 {"probes", json::object{{"live", ProbeToJson(s.live)},
                                         {"health", ProbeToJson(s.health)},
                                         {"fleet", ProbeToJson(s.fleet)},
                                         {"metrics", ProbeToJson(s.scrape)}}},
                 {"health", s.health_status}};
  o["fleetHealthy"] = s.fleet_healthy ? json::value(*s.fleet_healthy) : json::value(nullptr);
  o["counters"] = s.counters ? json::value(CountersToJson(*s.counters)) : json::value(nullptr);
  if (s.slo_probe) o["probes"].as_object()["slo"] = ProbeToJson(*s.slo_probe);
  if (s.slo) o["slo"] = SloReadingToJson(*s.slo);
  if (!s.metrics_error.empty()) o["metricsError"] = s.metrics_error;
  if (!s.slo_error.empty()) o["sloError"] = s.slo_error;
  return o;
}

Result<MonitorSample> SampleFromJson(const json::value& v) {
  if (!v.is_object() || GetString(v.as_object(), "type") != "sample") {
    return InvalidArgument("not a sample");
  }
  const json::object& o = v.as_object();
  MonitorSample s;
  auto t = ParseTime(GetString(o, "t").value_or(""));
  if (!t) return InvalidArgument("sample without a time");
  s.t = *t;
  const json::value* probes = o.if_contains("probes");
  const json::object* p = probes && probes->is_object() ? &probes->as_object() : nullptr;
  if (p) {
    s.live = ProbeFromJson(p->if_contains("live"));
    s.health = ProbeFromJson(p->if_contains("health"));
    s.fleet = ProbeFromJson(p->if_contains("fleet"));
    s.scrape = ProbeFromJson(p->if_contains("metrics"));
    if (p->contains("slo")) s.slo_probe = ProbeFromJson(p->if_contains("slo"));
  }
  s.health_status = GetString(o, "health").value_or("");
  s.fleet_healthy = GetBool(o, "fleetHealthy");
  if (const json::value* c = o.if_contains("counters"); c && c->is_object()) {
    s.counters = CountersFromJson(c->as_object());
  }
  s.slo = SloReadingFromJson(o.if_contains("slo"));
  s.metrics_error = GetString(o, "metricsError").value_or("");
  s.slo_error = GetString(o, "sloError").value_or("");
  return s;
}

std::vector<Interval> Intervals(const std::vector<MonitorSample>& samples, Millis sample_interval) {
  std::vector<Interval> out;
  const ServerCounters* base = nullptr;  // the last sample that had counters
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const MonitorSample& s = samples[i];
    Interval in;
    in.end = s.t;
    in.start = i == 0 ? s.t : std::max(samples[i - 1].t, s.t - 2 * sample_interval);
    std::vector<const ProbeResult*> probes = {&s.live, &s.health, &s.fleet, &s.scrape};
    if (s.slo_probe) probes.push_back(&*s.slo_probe);
    std::uint64_t unanswered = 0, answered_5xx = 0;
    for (const ProbeResult* p : probes) {
      unanswered += !p->answered;
      answered_5xx += p->answered && p->status >= 500;
    }
    in.unresponsive = unanswered == probes.size();
    // The first sample with the server's figures is where they start: its interval is empty.
    const bool first_figures = i == 0 && (s.counters || s.slo);
    if (s.counters && base && Delta(*s.counters, *base)) {
      in.counts = *Delta(*s.counters, *base);
    } else if (s.counters && base) {  // the server restarted: what it counted since
      in.counts = Since(*s.counters);
    } else if (!s.counters && s.slo && s.slo->since_previous) {  // /health/slo's buckets
      in.counts = *s.slo->since_previous;
    } else if (!first_figures) {  // only the probes tell
      in.counts.requests = probes.size() - unanswered;
      in.counts.errors = answered_5xx;
    }
    // Probes that got no answer were never counted by the server.
    in.counts.requests += unanswered;
    in.counts.errors += unanswered;
    if (s.counters) base = &*s.counters;
    out.push_back(std::move(in));
  }
  return out;
}

std::vector<RollbackFinding> EvaluateRollback(const std::vector<Interval>& in,
                                              const metrics::RollbackThresholds& t) {
  std::vector<RollbackFinding> out;
  if (in.empty()) return out;
  const WallTime now = in.back().end;
  // Availability: the suffix of intervals all below the threshold.
  {
    std::size_t k = in.size();
    metrics::SloCounts total;
    while (k > 0) {
      auto a = metrics::Evaluate(in[k - 1].counts).availability_pct;
      if (!a || *a >= t.availability_pct) break;
      total.Add(in[k - 1].counts);
      --k;
    }
    if (k < in.size() && now - in[k].start >= minutes(15)) {
      out.push_back({"availability",
                     fmt::format("ROLLBACK LEVEL 1 RECOMMENDED: API availability below {}% for 15 "
                                 "minutes (observed {} over the last {} since {}, {} of {} "
                                 "requests failed)",
                                 t.availability_pct, Pct(metrics::Evaluate(total).availability_pct),
                                 Minutes(now - in[k].start), TimeOfDay(in[k].start), total.errors,
                                 total.requests)});
    }
  }
  // Dispatch success: bad intervals, with intervals without finished runs in between.
  {
    std::optional<std::size_t> first_bad;
    metrics::SloCounts total;
    for (std::size_t k = in.size(); k > 0; --k) {
      auto s = metrics::Evaluate(in[k - 1].counts).dispatch_success_pct;
      if (!s) continue;
      if (*s >= t.dispatch_success_pct) break;
      first_bad = k - 1;
      total.Add(in[k - 1].counts);
    }
    if (first_bad && now - in[*first_bad].start >= minutes(30)) {
      out.push_back(
          {"dispatch_success",
           fmt::format("ROLLBACK LEVEL 1 RECOMMENDED: dispatch success rate below {}% "
                       "for 30 minutes (observed {} over the last {} since {}: {} of {} "
                       "finished runs COMPLETED)",
                       t.dispatch_success_pct, Pct(metrics::Evaluate(total).dispatch_success_pct),
                       Minutes(now - in[*first_bad].start), TimeOfDay(in[*first_bad].start),
                       total.runs_succeeded, total.runs_finished)});
    }
  }
  // Unresponsive: every sample since the first that got no answer.
  {
    std::size_t k = in.size();
    while (k > 0 && in[k - 1].unresponsive) --k;
    if (k < in.size() && now - in[k].end > minutes(5)) {
      out.push_back({"unresponsive",
                     fmt::format("ROLLBACK LEVEL 1 RECOMMENDED: control plane unresponsive for "
                                 "more than 5 minutes (no probe answered in {} samples over {} "
                                 "since {})",
                                 in.size() - k, Minutes(now - in[k].end), TimeOfDay(in[k].end))});
    }
  }
  return out;
}

std::string FormatMonitoringTable(const std::vector<Interval>& intervals, WallTime now,
                                  const metrics::SloTargets& t,
                                  const std::map<int, std::optional<double>>* server_p95) {
  struct Column {
    std::string name;
    metrics::SloValues v;
    std::uint64_t runs = 0;
    bool server_p95 = false;  // v.p95_latency_ms is the server's window figure
  };
  std::vector<Column> cols;
  for (int hours : {1, 6, 12, 24}) {
    metrics::SloCounts c;
    for (const Interval& in : intervals) {
      if (in.end > now - std::chrono::hours(hours) && in.end <= now) c.Add(in.counts);
    }
    Column col{"Hour " + std::to_string(hours), metrics::Evaluate(c), c.runs_finished};
    if (!col.v.p95_latency_ms && server_p95 && server_p95->count(hours)) {
      col.v.p95_latency_ms = server_p95->at(hours);
      col.server_p95 = col.v.p95_latency_ms.has_value();
    }
    cols.push_back(std::move(col));
  }
  auto cell = [](bool ok, const std::optional<double>& v, const std::string& text) {
    return v ? std::string(ok ? "✓ " : "✗ ") + text : std::string("- no data");
  };
  struct Row {
    std::string metric, target;
    std::function<std::string(const Column&)> value;
  };
  std::vector<Row> rows = {
      {"API Availability", fmt::format("{}%", t.availability_pct),
       [&](const Column& c) {
         return cell(metrics::MeetsAvailability(c.v, t), c.v.availability_pct,
                     Pct(c.v.availability_pct));
       }},
      {"Dispatch Success Rate", fmt::format(">{}%", t.dispatch_success_pct),
       [&](const Column& c) {
         return cell(metrics::MeetsDispatchSuccess(c.v, t), c.v.dispatch_success_pct,
                     fmt::format("{} of {}", Pct(c.v.dispatch_success_pct), c.runs));
       }},
      {"P95 Latency", fmt::format("<{}ms", t.p95_latency_ms),
       [&](const Column& c) {
         return cell(metrics::MeetsP95(c.v, t), c.v.p95_latency_ms,
                     c.v.p95_latency_ms ? fmt::format("{:.0f} ms{}", *c.v.p95_latency_ms,
                                                      c.server_p95 ? " (server)" : "")
                                        : "");
       }},
      {"Error Rate", fmt::format("<{}%", t.error_rate_pct),
       [&](const Column& c) {
         return cell(metrics::MeetsErrorRate(c.v, t), c.v.error_rate_pct, Pct(c.v.error_rate_pct));
       }},
  };
  auto pad = [](const std::string& s, std::size_t w) {
    std::size_t chars = 0;
    for (unsigned char ch : s) chars += (ch & 0xC0) != 0x80;
    return s + std::string(w > chars ? w - chars : 0, ' ');
  };
  constexpr std::size_t kMetric = 21, kTarget = 7, kCell = 20;
  std::string out = "| " + pad("Metric", kMetric) + " | " + pad("Target", kTarget) + " |";
  for (const Column& c : cols) out += " " + pad(c.name, kCell) + " |";
  out += "\n|" + std::string(kMetric + 2, '-') + "|" + std::string(kTarget + 2, '-') + "|";
  for (std::size_t i = 0; i < cols.size(); ++i) out += std::string(kCell + 2, '-') + "|";
  out += "\n";
  for (const Row& r : rows) {
    out += "| " + pad(r.metric, kMetric) + " | " + pad(r.target, kTarget) + " |";
    for (const Column& c : cols) out += " " + pad(r.value(c), kCell) + " |";
    out += "\n";
  }
  return out;
}

std::string FiguresNote(const MonitorSample& s) {
  if (s.counters) return "";
  auto said = [](std::string_view route, const ProbeResult& p, const std::string& error,
                 std::string_view needs) {
    return fmt::format("GET {} {} {}{}", route, p.answered ? "answered" : "got", error,
                       Refused(p) ? fmt::format(" (it needs {})", needs) : "");
  };
  const std::string metrics =
      said("/metrics", s.scrape, s.metrics_error, "the admin scope or the metrics token");
  if (s.slo) {
    return "figures: " + metrics +
           ", so requests, errors and finished runs are read from GET /health/slo; P95 latency is "
           "the server's own (marked \"server\")";
  }
  if (s.slo_probe) {
    return "figures missing: " + metrics + " and " +
           said("/health/slo", *s.slo_probe, s.slo_error, "the status scope") +
           ": only the monitor's own probes are counted; P95 latency and dispatch success have "
           "no data";
  }
  return "figures missing: " + metrics + ": only the monitor's own probes are counted";
}

Monitor::Monitor(Endpoint endpoint, std::string api_key, MonitorOptions options, const Clock& clock)
    : endpoint_(std::move(endpoint)),
      api_key_(std::move(api_key)),
      opts_(std::move(options)),
      clock_(clock) {}

Result<int> Monitor::Load() {
  if (opts_.log_path.empty()) return 0;
  std::ifstream in(opts_.log_path);
  if (!in) {
    if (::access(opts_.log_path.c_str(), F_OK) != 0) return 0;  // a first start
    return Internal("cannot read " + opts_.log_path);
  }
  int skipped = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto v = ParseJson(line);
    if (!v.ok()) {  // a torn line (the monitor was killed mid-write)
      ++skipped;
      continue;
    }
    if (GetString(v->as_object(), "type") != "sample") continue;  // rollback lines
    auto s = SampleFromJson(*v);
    if (!s.ok()) {
      ++skipped;
      continue;
    }
    samples_.push_back(std::move(*s));
  }
  std::stable_sort(samples_.begin(), samples_.end(),
                   [](const auto& a, const auto& b) { return a.t < b.t; });
  return skipped;
}

MonitorSample Monitor::TakeSample() const {
  RequestOptions req;
  req.read_timeout = opts_.request_timeout;
  req.connect_timeout = opts_.request_timeout;
  MonitorSample s;
  s.t = clock_.Now();
  s.live = Probe(endpoint_, api_key_, "GET", "/health/live", {}, req, clock_);
  s.health = Probe(endpoint_, api_key_, "GET", "/health", {}, req, clock_);
  s.health_status = JsonStatus(s.health);
  s.fleet = Probe(endpoint_, api_key_, "GET", "/health/fleet", {}, req, clock_);
  if (auto v = ParseJson(s.fleet.body); v.ok() && v->is_object()) {
    s.fleet_healthy = GetBool(v->as_object(), "healthy");
  }
  s.scrape = Probe(endpoint_, api_key_, "GET", "/metrics", {}, req, clock_);
  if (s.scrape.answered && s.scrape.status == 200) {
    if (auto c = CountersFromMetrics(s.scrape.body); c.ok()) {
      s.counters = std::move(*c);
    } else {
      s.metrics_error = "HTTP 200, not the metrics text format: " + c.status().message();
    }
  } else {
    s.metrics_error = ProbeError(s.scrape);
  }
  if (Refused(s.scrape)) ReadHealthSlo(req, s);
  s.live.body.clear();
  s.health.body.clear();
  s.fleet.body.clear();
  s.scrape.body.clear();
  return s;
}

void Monitor::ReadHealthSlo(const RequestOptions& req, MonitorSample& s) const {
  std::optional<SloCursor> cursor;
  if (!samples_.empty() && samples_.back().slo) cursor = samples_.back().slo->newest;
  ProbeResult p = Probe(endpoint_, api_key_, "GET", "/health/slo", {}, req, clock_);
  if (p.answered && p.status == 200) {
    if (auto r = ReadSlo(p.body, cursor); r.ok()) {
      s.slo = std::move(*r);
    } else {
      s.slo_error = "HTTP 200, " + r.status().message();
    }
  } else {
    s.slo_error = ProbeError(p);
  }
  p.body.clear();
  s.slo_probe = std::move(p);
}

void Monitor::AppendLog(const json::object& line) {
  if (opts_.log_path.empty()) return;
  // One write per line with O_APPEND; a torn earlier line (no final newline) is closed first
  // so that this one stays whole.
  int fd = ::open(opts_.log_path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string text = ToJson(line) + "\n";
  char last = '\n';
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0 && ::pread(fd, &last, 1, size - 1) == 1 && last != '\n') text = "\n" + text;
  [[maybe_unused]] ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

std::vector<RollbackFinding> Monitor::Record(MonitorSample sample, std::ostream& out) {
  AppendLog(SampleToJson(sample));
  const WallTime now = sample.t;
  out << FormatTime(now)
      << " | Health: " << (sample.health_status.empty() ? "UNKNOWN" : sample.health_status)
      << " | Fleet Healthy: "
      << (sample.fleet_healthy ? (*sample.fleet_healthy ? "true" : "false") : "false")
      << " | live: " << Describe(sample.live) << "\n";
  if (std::string note = FiguresNote(sample); !note.empty()) out << note << "\n";
  samples_.push_back(std::move(sample));
  // Keep 25 hours: the table's 24 and a stretch reaching back past them.
  while (!samples_.empty() && samples_.front().t < now - std::chrono::hours(25)) {
    samples_.erase(samples_.begin());
  }
  std::vector<Interval> intervals = Intervals(samples_, opts_.interval);
  const MonitorSample& last = samples_.back();
  out << FormatMonitoringTable(intervals, now, {}, last.slo ? &last.slo->p95_ms : nullptr);
  if (samples_.size() == 1 && (last.counters || last.slo)) {
    out << "(first sample: the server's counters start here; the table fills from the next "
           "sample on)\n";
  }
  std::vector<RollbackFinding> findings = EvaluateRollback(intervals);
  for (const RollbackFinding& f : findings) {
    out << f.message << "\n";
    AppendLog({{"type", "rollback"},
               {"t", FormatTime(now)},
               {"criterion", f.criterion},
               {"message", f.message}});
  }
  out.flush();
  return findings;
}

}  // namespace outpost::cli
