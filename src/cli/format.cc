#include "cli/format.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::cli {
namespace {

namespace json = boost::json;

// A scalar as text ("" when absent or null); objects and arrays as compact JSON.
std::string Text(const json::value* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v->get_double());
    return buf;
  }
  return json::serialize(*v);
}

std::string Text(const json::object& o, std::string_view key) { return Text(o.if_contains(key)); }

std::optional<double> Number(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !(v->is_number())) return std::nullopt;
  return v->to_number<double>();
}

std::string Duration(const json::object& o, std::string_view key) {
  auto n = Number(o, key);
  return n ? FormatDuration(static_cast<std::int64_t>(*n)) : "";
}

std::string WithSuffix(std::string main, std::string_view open, const std::string& extra,
                       std::string_view close = "") {
  if (extra.empty()) return main;
  return main + std::string(open) + extra + std::string(close);
}

std::size_t CodePoints(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string Pad(const std::string& s, std::size_t width) {
  std::size_t n = CodePoints(s);
  return n >= width ? s : s + std::string(width - n, ' ');
}

std::string JoinObject(const json::object& o, std::string_view sep = ", ") {
  std::string out;
  for (const auto& [k, v] : o) {
    if (!out.empty()) out += sep;
    out += std::string(k) + "=" + Text(&v);
  }
  return out;
}

std::string ChangesText(const json::object& run) {
  const auto* changes = run.if_contains("changes");
  if (changes == nullptr || !changes->is_object()) return "";
  const auto& c = changes->as_object();
  std::string out = Text(c, "kind");
  if (const auto* files = c.if_contains("filesChanged"); files && files->is_array()) {
    out += ", " + std::to_string(files->as_array().size()) + " files";
  }
  return out;
}

}  // namespace

std::string VerificationText(const json::object& run) {
  const auto* v = run.if_contains("verification");
  if (v == nullptr || !v->is_object()) return "";
  const auto& o = v->as_object();
  const bool passed = o.contains("passed") && o.at("passed").is_bool() && o.at("passed").as_bool();
  std::string out = passed ? "passed" : "failed";
  if (std::string code = Text(o, "exitCode"); !code.empty()) {
    out += " (exit code " + code + ")";
  } else if (o.contains("timedOut") && o.at("timedOut").is_bool() && o.at("timedOut").as_bool()) {
    out += " (timed out)";
  } else {
    out += " (stopped)";
  }
  return out;
}

namespace {

std::string UsageText(const json::object& run) {
  const auto* usage = run.if_contains("usage");
  if (usage == nullptr || !usage->is_object()) return "";
  const auto& u = usage->as_object();
  std::string out = Text(u, "inputTokens") + " in / " + Text(u, "outputTokens") + " out tokens";
  if (auto cost = Number(u, "costUsd")) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ", $%.4f", *cost);
    out += buf;
  }
  return out;
}

std::string CheckText(const json::value& v) {
  if (!v.is_object()) return Text(&v);
  json::object rest = v.as_object();
  std::string status = Text(rest, "status");
  rest.erase("status");
  std::string others = JoinObject(rest, "  ");
  if (status.empty()) return others;
  return others.empty() ? status : status + "  " + others;
}

std::string FleetAgents(const json::array& agents) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : agents) {
    if (!a.is_object()) continue;
    const auto& o = a.as_object();
    std::string success;
    if (auto rate = Number(o, "successRate")) {
      // successRate may be a fraction (0-1) or a percentage; show a percentage either way.
      double pct = *rate <= 1.0 ? *rate * 100 : *rate;
      success = std::to_string(static_cast<int>(pct + 0.5)) + "%";
    }
    rows.push_back({Text(o, "agent"), GetBool(o, "available") == true ? "yes" : "no",
                    Text(o, "modelId"), Text(o, "active"), Text(o, "queued"),
                    Text(o, "maxConcurrent"), success, Duration(o, "avgDurationMs")});
  }
  return FormatTable(
      {"AGENT", "AVAILABLE", "MODEL", "ACTIVE", "QUEUED", "MAX", "SUCCESS", "AVG DURATION"}, rows);
}

}  // namespace

std::string FormatDuration(std::int64_t ms) {
  if (ms < 0) return "-";
  if (ms < 1000) return std::to_string(ms) + "ms";
  char buf[32];
  if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms / 100) / 10.0);
    return buf;
  }
  std::int64_t s = ms / 1000;
  if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60));
  return buf;
}

std::string FormatElapsed(Millis elapsed) {
  long long s = std::max<long long>(0, elapsed.count() / 1000);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
  }
  return buf;
}

std::string Truncate(std::string_view text, std::size_t max_chars) {
  std::string flat;
  bool space = false;
  for (char c : text) {
    bool ws = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (ws && space) continue;
    flat += ws ? ' ' : c;
    space = ws;
  }
  if (CodePoints(flat) <= max_chars) return flat;
  if (max_chars == 0) return "";
  std::size_t keep = max_chars - 1, count = 0, i = 0;
  for (; i < flat.size(); ++i) {
    if ((flat[i] & 0xC0) != 0x80 && count++ == keep) break;
  }
  std::string out = flat.substr(0, i);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "…";
}

std::string ShortTime(std::string_view iso) {
  auto t = iso.size() < 19 || iso[10] != 'T' ? std::nullopt : ParseTime(iso);
  if (!t) return std::string(iso);
  const std::time_t secs = static_cast<std::time_t>(ToMillis(*t) / 1000);
  std::tm local{};
  if (::localtime_r(&secs, &local) == nullptr) return std::string(iso);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &local);
  return n == 0 ? std::string(iso) : std::string(buf, n);
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = CodePoints(header[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < header.size() && c < row.size(); ++c) {
      widths[c] = std::max(widths[c], CodePoints(row[c]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < header.size(); ++c) {
      std::string cell = c < cells.size() ? cells[c] : "";
      out += c + 1 == header.size() ? cell : Pad(cell, widths[c]) + "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string FormatKeyValues(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::size_t width = 0;
  for (const auto& [k, v] : pairs) {
    if (!v.empty()) width = std::max(width, CodePoints(k));
  }
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!v.empty()) out += Pad(k, width + 2) + v + "\n";
  }
  return out;
}

std::string FormatRunDetails(const json::object& run) {
  std::string tags;
  if (const auto* t = run.if_contains("tags"); t && t->is_object())
    tags = JoinObject(t->as_object());
  std::string progress = Text(run, "progress");
  return FormatKeyValues({
      {"Run", Text(run, "runId")},
      {"Status", WithSuffix(Text(run, "status"), " (", Text(run, "reason"), ")")},
      {"Phase", Text(run, "phase")},
      {"Agent", WithSuffix(Text(run, "agent"), " / ", Text(run, "modelId"))},
      {"Task", Truncate(Text(run, "task"), 200)},
      {"Repo", WithSuffix(Text(run, "repo"), " @ ", Text(run, "branch"))},
      {"Tags", tags},
      {"Created", ShortTime(Text(run, "createdAt"))},
      {"Started", ShortTime(Text(run, "startedAt"))},
      {"Ended", ShortTime(Text(run, "endedAt"))},
      {"Duration", Duration(run, "durationMs")},
      {"Progress", progress.empty() ? "" : progress + "%"},
      {"Exit code", Text(run, "exitCode")},
      {"Error", Text(run, "errorMessage")},
      {"Cancel reason", Text(run, "cancelReason")},
      {"Changes", ChangesText(run)},
      {"Usage", UsageText(run)},
      {"Verify", Text(run, "verify").empty()
                     ? ""
                     : WithSuffix(VerificationText(run).empty() ? std::string("not run (yet)")
                                                                : VerificationText(run),
                                  ": ", Text(run, "verify"))},
  });
}

std::string FormatRunsTable(const json::array& runs, WallTime now) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : runs) {
    if (!r.is_object()) continue;
    const auto& run = r.as_object();
    std::string duration = Duration(run, "durationMs");
    auto started = ParseTime(Text(run, "startedAt"));
    if (duration.empty() && started && Text(run, "endedAt").empty()) {
      duration = FormatElapsed(std::chrono::duration_cast<Millis>(now - *started)) + "…";
    }
    rows.push_back({Text(run, "runId"), Text(run, "status"), Text(run, "agent"),
                    ShortTime(Text(run, "createdAt")), duration.empty() ? "-" : duration,
                    Truncate(Text(run, "task"), 48)});
  }
  return FormatTable({"ID", "STATUS", "AGENT", "CREATED", "DURATION", "TASK"}, rows);
}

std::string FormatFinalSummary(const json::object& run) {
  std::string line =
      Text(run, "runId") + " " + WithSuffix(Text(run, "status"), " (", Text(run, "reason"), ")");
  if (std::string code = Text(run, "exitCode"); !code.empty()) line += ", exit code " + code;
  if (std::string d = Duration(run, "durationMs"); !d.empty()) line += ", duration " + d;
  line += "\n";
  if (std::string e = Text(run, "errorMessage"); !e.empty()) line += "error: " + e + "\n";
  if (std::string c = Text(run, "cancelReason"); !c.empty()) line += "cancel reason: " + c + "\n";
  if (std::string v = VerificationText(run); !v.empty()) line += "verify: " + v + "\n";
  return line + FormatChanges(run);
}

std::string FormatChanges(const json::object& run) {
  const auto* changes = run.if_contains("changes");
  if (changes == nullptr || !changes->is_object()) return "";
  const auto& c = changes->as_object();
  std::string out = "changes: " + Text(c, "kind");
  std::string before = Text(c, "beforeSha"), after = Text(c, "afterSha");
  if (!before.empty() && !after.empty() && before != after) {
    out += " (" + before.substr(0, 10) + ".." + after.substr(0, 10) + ")";
  }
  if (c.contains("redacted") && c.at("redacted").is_bool() && c.at("redacted").as_bool()) {
    out += ", secrets redacted, no bundle kept";
  }
  out += "\n";
  const auto* stat = c.if_contains("diffStat");
  if (stat == nullptr || !stat->is_array() || stat->as_array().empty()) return out;
  // git diff --stat: " path | N +++--", bars scaled so the longest fits in 40 columns.
  struct Row {
    std::string path, count, bar;
    std::int64_t ins = 0, del = 0;
    bool binary = false;
  };
  std::vector<Row> rows;
  std::size_t path_w = 0, count_w = 0;
  std::int64_t max_lines = 0, total_ins = 0, total_del = 0;
  for (const auto& v : stat->as_array()) {
    if (!v.is_object()) continue;
    const auto& f = v.as_object();
    Row r;
    r.path = Text(f, "path");
    auto ins = Number(f, "insertions"), del = Number(f, "deletions");
    r.binary = !ins || !del;
    r.ins = ins ? static_cast<std::int64_t>(*ins) : 0;
    r.del = del ? static_cast<std::int64_t>(*del) : 0;
    r.count = r.binary ? "Bin" : std::to_string(r.ins + r.del);
    total_ins += r.ins;
    total_del += r.del;
    max_lines = std::max(max_lines, r.ins + r.del);
    path_w = std::max(path_w, r.path.size());
    count_w = std::max(count_w, r.count.size());
    rows.push_back(std::move(r));
  }
  constexpr std::int64_t kBarWidth = 40;
  for (Row& r : rows) {
    std::int64_t ins = r.ins, del = r.del;
    if (max_lines > kBarWidth) {
      ins = r.ins ? std::max<std::int64_t>(1, r.ins * kBarWidth / max_lines) : 0;
      del = r.del ? std::max<std::int64_t>(1, r.del * kBarWidth / max_lines) : 0;
    }
    out += " " + r.path + std::string(path_w - r.path.size(), ' ') + " | " +
           std::string(count_w - r.count.size(), ' ') + r.count;
    if (!r.binary && r.ins + r.del > 0) {
      out += " " + std::string(static_cast<std::size_t>(ins), '+') +
             std::string(static_cast<std::size_t>(del), '-');
    }
    out += "\n";
  }
  auto plural = [](std::int64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  out += " " + plural(static_cast<std::int64_t>(rows.size()), "file changed", "files changed");
  if (total_ins > 0) out += ", " + plural(total_ins, "insertion(+)", "insertions(+)");
  if (total_del > 0) out += ", " + plural(total_del, "deletion(-)", "deletions(-)");
  return out + "\n";
}

std::string FormatProgress(std::string_view run_id, std::string_view status, std::string_view phase,
                           Millis elapsed, std::string_view note) {
  std::string out = std::string(run_id) + " " + std::string(status);
  if (!phase.empty()) out += " (" + std::string(phase) + ")";
  out += " " + FormatElapsed(elapsed);
  if (!note.empty()) out += " - " + std::string(note);
  return out;
}

std::string FormatHealth(const json::object& body, bool fleet) {
  std::string out;
  if (!fleet) {
    auto uptime = Number(body, "uptimeSeconds");
    out = FormatKeyValues({
        {"status", Text(body, "status")},
        {"version", Text(body, "version")},
        {"uptime", uptime ? FormatElapsed(Millis(static_cast<std::int64_t>(*uptime * 1000))) : ""},
    });
    if (const auto* checks = body.if_contains("checks"); checks && checks->is_object()) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [name, v] : checks->as_object())
        rows.push_back({std::string(name), CheckText(v)});
      out += "checks:\n";
      std::string table = FormatTable({"", ""}, rows);
      std::size_t pos = table.find('\n') + 1;  // drop the empty header line
      while (pos < table.size()) {
        std::size_t end = table.find('\n', pos) + 1;
        out += "  " + table.substr(pos, end - pos);
        pos = end;
      }
    }
    return out;
  }
  std::string healthy;
  if (auto h = GetBool(body, "healthy")) healthy = *h ? "yes" : "no";
  std::string capacity, dispatches;
  if (const auto* c = body.if_contains("capacity"); c && c->is_object()) {
    json::object flat = c->as_object();  // the fleet-wide figures; not the per-replica detail
    flat.erase("thisReplica");
    flat.erase("replicas");
    capacity = JoinObject(flat);
  }
  if (const auto* d = body.if_contains("dispatches"); d && d->is_object()) {
    dispatches = Text(d->as_object(), "lastHourTotal");
    if (const auto* by = d->as_object().if_contains("byStatus"); by && by->is_object()) {
      dispatches = WithSuffix(dispatches, " (", JoinObject(by->as_object()), ")");
    }
  }
  out = FormatKeyValues({{"status", Text(body, "status")},
                         {"healthy", healthy},
                         {"capacity", capacity},
                         {"last hour", dispatches}});
  if (const auto* agents = body.if_contains("agents"); agents && agents->is_array()) {
    out += "\n" + FleetAgents(agents->as_array());
  }
  return out;
}

std::string FormatError(const Status& status) {
  const auto& d = status.details();
  if (!d.contains("httpStatus")) return "outpost: " + status.message() + "\n";
  std::string code = Text(d, "errorCode");
  if (code.empty()) code = std::string(CodeName(status.code()));
  std::string out =
      "outpost: " + code + " (HTTP " + Text(d, "httpStatus") + "): " + status.message() + "\n";
  const auto* details = d.if_contains("details");
  if (details == nullptr || !details->is_object()) return out;
  for (const auto& [key, v] : details->as_object()) {
    if (key == "errors" && v.is_array()) {
      for (const auto& e : v.as_array()) {
        if (!e.is_object()) continue;
        std::string path = Text(e.as_object(), "path");
        out += "  " + (path.empty() ? std::string("(request)") : path) + ": " +
               Text(e.as_object(), "message") + "\n";
      }
    } else {
      out += "  " + std::string(key) + ": " + Text(&v) + "\n";
    }
  }
  return out;
}

}  // namespace outpost::cli
