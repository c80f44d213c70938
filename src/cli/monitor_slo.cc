#include "cli/monitor_slo.h"

#include <boost/json/array.hpp>

#include "common/json_util.h"
#include "common/time_util.h"

namespace outpost::cli {
namespace json = boost::json;
namespace {

constexpr int kWindowHours[] = {1, 6, 12, 24};

std::uint64_t Count(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return 0;
  const double d = v->to_number<double>();
  return d > 0 ? static_cast<std::uint64_t>(d) : 0;
}

std::optional<double> Number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

const json::object* Object(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

metrics::SloCounts BucketCounts(const json::object& p) {
  metrics::SloCounts c;
  c.requests = Count(p, "requests");
  c.errors = Count(p, "errors");
  c.runs_finished = Count(p, "runsFinished");
  c.runs_succeeded = Count(p, "runsSucceeded");
  return c;
}

std::uint64_t Growth(std::uint64_t now, std::uint64_t before) {
  return now > before ? now - before : 0;
}

// What `bucket` holds beyond `before` (the same bucket read earlier).
metrics::SloCounts Growth(const metrics::SloCounts& bucket, const metrics::SloCounts& before) {
  metrics::SloCounts c;
  c.requests = Growth(bucket.requests, before.requests);
  c.errors = Growth(bucket.errors, before.errors);
  c.runs_finished = Growth(bucket.runs_finished, before.runs_finished);
  c.runs_succeeded = Growth(bucket.runs_succeeded, before.runs_succeeded);
  return c;
}

json::object CountsToJson(const metrics::SloCounts& c) {
  return {{"requests", c.requests},
          {"errors", c.errors},
          {"runsFinished", c.runs_finished},
          {"runsSucceeded", c.runs_succeeded}};
}

}  // namespace

Result<SloReading> ReadSlo(std::string_view body, const std::optional<SloCursor>& previous) {
  auto doc = ParseJson(body);
  if (!doc.ok() || !doc->is_object()) return InvalidArgument("/health/slo: not JSON");
  const json::object* data = Object(doc->as_object(), "data");
  const json::value* series = data ? data->if_contains("series") : nullptr;
  if (!series || !series->is_array() || series->as_array().empty()) {
    return InvalidArgument("/health/slo: no series");
  }
  SloReading r;
  metrics::SloCounts since;
  bool have_newest = false;
  for (const json::value& v : series->as_array()) {
    if (!v.is_object()) return InvalidArgument("/health/slo: a bucket is not an object");
    auto t = ParseTime(GetString(v.as_object(), "t").value_or(""));
    if (!t) return InvalidArgument("/health/slo: a bucket without a time");
    const metrics::SloCounts c = BucketCounts(v.as_object());
    if (previous && *t == previous->t) {
      since.Add(Growth(c, previous->counts));
    } else if (previous && *t > previous->t) {
      since.Add(c);
    }
    if (!have_newest || *t >= r.newest.t) r.newest = {*t, c};
    have_newest = true;
  }
  if (previous) r.since_previous = since;
  const json::object* windows = Object(*data, "windows");
  for (int hours : kWindowHours) {
    const json::object* w = windows ? Object(*windows, std::to_string(hours) + "h") : nullptr;
    r.p95_ms[hours] = w ? Number(*w, "p95LatencyMs") : std::nullopt;
  }
  return r;
}

json::object SloReadingToJson(const SloReading& r) {
  json::object p95;
  for (const auto& [hours, ms] : r.p95_ms) {
    p95[std::to_string(hours) + "h"] = ms ? json::value(*ms) : json::value(nullptr);
  }
  json::object newest = CountsToJson(r.newest.counts);
  newest["t"] = FormatTime(r.newest.t);
  json::object o{{"newest", std::move(newest)}, {"p95LatencyMs", std::move(p95)}};
  o["sincePrevious"] =
      r.since_previous ? json::value(CountsToJson(*r.since_previous)) : json::value(nullptr);
  return o;
}

std::optional<SloReading> SloReadingFromJson(const json::value* v) {
  if (!v || !v->is_object()) return std::nullopt;
  const json::object& o = v->as_object();
  const json::object* newest = Object(o, "newest");
  auto t = newest ? ParseTime(GetString(*newest, "t").value_or("")) : std::nullopt;
  if (!t) return std::nullopt;
  SloReading r;
  r.newest = {*t, BucketCounts(*newest)};
  if (const json::object* since = Object(o, "sincePrevious"))
    r.since_previous = BucketCounts(*since);
  const json::object* p95 = Object(o, "p95LatencyMs");
  for (int hours : kWindowHours) {
    r.p95_ms[hours] = p95 ? Number(*p95, std::to_string(hours) + "h") : std::nullopt;
  }
  return r;
}

}  // namespace outpost::cli
