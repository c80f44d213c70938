// Prometheus text exposition format 0.0.4: the snapshot types every metric family is collected
// into, and the one writer that turns them into text. Kept apart from the live instruments
// (metrics.h) so that scrape-time collectors and tests can build snapshots by hand.
//
// Format (https://prometheus.io/docs/instrumenting/exposition_formats/): per family one
// "# HELP name text" (\ and newline escaped) and one "# TYPE name counter|gauge|histogram" line,
// then its samples "name{label="value",...} value", label values escaped (\\, \", \n), values
// as Go's strconv would print them ("+Inf", "-Inf", "NaN", integers without a decimal point).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost::metrics {

// Label name/value pairs in exposition order.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };
std::string_view TypeName(MetricType type);

struct Sample {
  std::string name;  // the full sample name: "x_total", "x_bucket", "x_sum", ...
  Labels labels;
  double value = 0;
};

struct FamilySnapshot {
  std::string name;  // as in the TYPE line ("outpost_http_requests_total")
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<Sample> samples;
};

// The Content-Type of a text scrape.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string FormatValue(double v);
std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);
// Every family in order, each ending with a newline; families without samples still give
// their HELP and TYPE lines.
std::string WriteText(const std::vector<FamilySnapshot>& families);

// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name
// ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

}  // namespace outpost::metrics
