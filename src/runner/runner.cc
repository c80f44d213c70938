#include "runner/runner.h"

namespace outpost {

std::string_view ToString(ExitOutcome outcome) {
  for (const auto& [o, name] : kExitOutcomeNames) {
    if (o == outcome) return name;
  }
  return "";
}

std::optional<ExitOutcome> ParseExitOutcome(std::string_view name) {
  for (const auto& [o, n] : kExitOutcomeNames) {
    if (n == name) return o;
  }
  return std::nullopt;
}

}  // namespace outpost
