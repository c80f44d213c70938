#include "metrics/text_parser.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "metrics/exposition.h"

namespace outpost::metrics {
namespace {

class LineParser {
 public:
  explicit LineParser(std::string_view line) : s_(line) {}

  Status Sample(ParsedSample* out) {
    std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '{' && s_[pos_] != ' ' && s_[pos_] != '\t') ++pos_;
    out->name = std::string(s_.substr(start, pos_ - start));
    if (!IsValidMetricName(out->name)) return Bad("invalid metric name '" + out->name + "'");
    if (Peek() == '{') {
      ++pos_;
      if (Status st = LabelSet(out); !st.ok()) return st;
    }
    SkipBlanks();
    std::string_view rest = s_.substr(pos_);
    std::size_t sp = rest.find_first_of(" \t");
    std::string value(rest.substr(0, sp));
    if (value.empty()) return Bad("missing value");
    auto v = ParseFloat(value);
    if (!v) return Bad("invalid value '" + value + "'");
    out->value = *v;
    if (sp != std::string_view::npos) {  // a timestamp (integer milliseconds) may follow
      std::string ts(rest.substr(sp));
      ts.erase(0, ts.find_first_not_of(" \t"));
      ts.erase(ts.find_last_not_of(" \t") + 1);
      if (!ts.empty()) {
        char* end = nullptr;
        std::strtoll(ts.c_str(), &end, 10);
        if (*end != '\0') return Bad("invalid timestamp '" + ts + "'");
      }
    }
    return Status::Ok();
  }

  static std::optional<double> ParseFloat(const std::string& v) {
    if (v == "+Inf" || v == "Inf") return std::numeric_limits<double>::infinity();
    if (v == "-Inf") return -std::numeric_limits<double>::infinity();
    if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0' || std::isnan(d) || std::isinf(d)) return std::nullopt;
    return d;
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipBlanks() {
    while (Peek() == ' ' || Peek() == '\t') ++pos_;
  }
  Status Bad(std::string why) const { return InvalidArgument(why); }

  Status LabelSet(ParsedSample* out) {
    while (true) {
      SkipBlanks();
      if (Peek() == '}') {
        ++pos_;
        return Status::Ok();
      }
      std::size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != '=' && s_[pos_] != ' ') ++pos_;
      std::string name(s_.substr(start, pos_ - start));
      if (!IsValidLabelName(name) && name != "le") return Bad("invalid label name '" + name + "'");
      SkipBlanks();
      if (Peek() != '=') return Bad("expected '=' after label " + name);
      ++pos_;
      SkipBlanks();
      if (Peek() != '"') return Bad("expected '\"' for the value of label " + name);
      ++pos_;
      std::string value;
      while (true) {
        if (pos_ >= s_.size()) return Bad("unterminated value of label " + name);
        char c = s_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          char e = Peek();
          ++pos_;
          if (e == 'n') {
            value += '\n';
          } else if (e == '\\' || e == '"') {
            value += e;
          } else {
            return Bad("invalid escape in the value of label " + name);
          }
        } else {
          value += c;
        }
      }
      if (!out->labels.emplace(name, std::move(value)).second) {
        return Bad("label " + name + " repeated");
      }
      SkipBlanks();
      if (Peek() == ',') {
        ++pos_;
      } else if (Peek() != '}') {
        return Bad("expected ',' or '}' after label " + name);
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

std::string UnescapeHelp(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
      out += s[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "# HELP name text" / "# TYPE name type"; other comments are ignored.
Status Comment(std::string_view line, ParsedText* out) {
  std::string_view rest = line.substr(1);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  bool help = rest.starts_with("HELP ");
  bool type = rest.starts_with("TYPE ");
  if (!help && !type) return Status::Ok();
  rest.remove_prefix(5);
  std::size_t sp = rest.find(' ');
  std::string name(rest.substr(0, sp));
  if (!IsValidMetricName(name)) return InvalidArgument("invalid metric name in comment");
  std::string_view text = sp == std::string_view::npos ? "" : rest.substr(sp + 1);
  if (help) {
    out->help[name] = UnescapeHelp(text);
    return Status::Ok();
  }
  if (text != "counter" && text != "gauge" && text != "histogram" && text != "summary" &&
      text != "untyped") {
    return InvalidArgument("unknown metric type '" + std::string(text) + "'");
  }
  if (!out->types.emplace(name, std::string(text)).second) {
    return InvalidArgument("second TYPE line for " + name);
  }
  return Status::Ok();
}

}  // namespace

Result<ParsedText> ParseText(std::string_view text) {
  ParsedText out;
  int number = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++number;
    line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
    if (line.empty()) continue;
    Status st = Status::Ok();
    if (line.front() == '#') {
      st = Comment(line, &out);
    } else {
      ParsedSample s;
      st = LineParser(line).Sample(&s);
      if (st.ok()) out.samples.push_back(std::move(s));
    }
    if (!st.ok()) return InvalidArgument("line " + std::to_string(number) + ": " + st.message());
  }
  return out;
}

double ParsedText::Sum(std::string_view name,
                       const std::map<std::string, std::string>& match) const {
  double total = 0;
  for (const ParsedSample& s : samples) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) ok = false;
    }
    if (ok) total += s.value;
  }
  return total;
}

std::optional<double> ParsedText::Value(std::string_view name,
                                        const std::map<std::string, std::string>& labels) const {
  for (const ParsedSample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

}  // namespace outpost::metrics
