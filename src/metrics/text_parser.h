// A parser of the Prometheus text exposition format 0.0.4, for the consumers of /metrics
// inside Outpost (`outpost monitor`) and for tests. It accepts what the format allows (HELP and
// TYPE comments, other comments, label escapes, an optional trailing comma in a label set,
// +Inf/-Inf/NaN, an optional timestamp) and refuses the rest with the line number.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost::metrics {

struct ParsedSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ParsedText {
  std::vector<ParsedSample> samples;         // in input order
  std::map<std::string, std::string> types;  // family name -> "counter", ...
  std::map<std::string, std::string> help;   // family name -> unescaped help

  // The sum of every sample named `name` whose labels include all of `match`.
  double Sum(std::string_view name, const std::map<std::string, std::string>& match = {}) const;
  // The value of the one sample named `name` with exactly these labels, if present.
  std::optional<double> Value(std::string_view name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

// kInvalidArgument "line N: ..." on malformed input.
Result<ParsedText> ParseText(std::string_view text);

}  // namespace outpost::metrics
