#include "http/media_type.h"

#include <vector>

#include "common/strings.h"
#include "http/http_types.h"

namespace outpost::http {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    std::size_t pos = s.find(sep);
    out.push_back(Trim(s.substr(0, pos)));
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

std::string_view Unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// 0 = no match, 1 = "*/*", 2 = "type/*", 3 = exact.
int Specificity(std::string_view range, std::string_view type) {
  if (range == "*/*") return 1;
  if (EqualsIgnoreCase(range, type)) return 3;
  std::size_t slash = type.find('/');
  if (range.size() == slash + 2 && range.substr(slash) == "/*" &&
      EqualsIgnoreCase(range.substr(0, slash), type.substr(0, slash))) {
    return 2;
  }
  return 0;
}

double ParseQuality(std::string_view params_q) {
  double q = 1.0;
  std::string text(params_q);
  try {
    q = std::stod(text);
  } catch (...) {
    return 0.0;  // a malformed q makes the range useless rather than preferred
  }
  return q < 0 ? 0 : (q > 1 ? 1 : q);
}

}  // namespace

bool IsJsonContentType(std::string_view content_type) {
  std::vector<std::string_view> parts = Split(content_type, ';');
  if (!EqualsIgnoreCase(parts[0], "application/json")) return false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    std::size_t eq = parts[i].find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view name = Trim(parts[i].substr(0, eq));
    std::string_view value = Unquote(Trim(parts[i].substr(eq + 1)));
    if (!EqualsIgnoreCase(name, "charset") || !EqualsIgnoreCase(value, "utf-8")) return false;
  }
  return true;
}

double AcceptQuality(const std::optional<std::string>& accept, std::string_view media_type) {
  if (!accept || Trim(*accept).empty()) return 1.0;
  int best_specificity = 0;
  double best_q = 0.0;
  for (std::string_view range : Split(*accept, ',')) {
    std::vector<std::string_view> parts = Split(range, ';');
    int specificity = Specificity(parts[0], media_type);
    if (specificity <= best_specificity) continue;
    double q = 1.0;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      if (parts[i].size() > 2 && (parts[i][0] == 'q' || parts[i][0] == 'Q') && parts[i][1] == '=') {
        q = ParseQuality(parts[i].substr(2));
      }
    }
    best_specificity = specificity;
    best_q = q;
  }
  return best_q;
}

bool PrefersHtml(const std::optional<std::string>& accept) {
  return AcceptQuality(accept, "text/html") > AcceptQuality(accept, "application/json");
}

}  // namespace outpost::http
