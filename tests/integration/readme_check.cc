#include "tests/integration/readme_check.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace outpost::testing {
namespace {

// A piece of code the README shows: one inline code span, or one line of a fenced block.
struct Span {
  std::string text;
  int line = 0;
};

// What is read together: a paragraph, list item, table row or heading (its inline code), or one
// line of a fenced block.
struct Unit {
  std::vector<Span> spans;
  bool code = false;
};

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

bool StartsUnit(std::string_view line) {
  std::size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos) return false;
  std::string_view t = line.substr(i);
  if (t.starts_with("- ") || t.starts_with("* ") || t.starts_with("|") || t.starts_with("#")) {
    return true;
  }
  std::size_t d = 0;
  while (d < t.size() && std::isdigit(static_cast<unsigned char>(t[d]))) ++d;
  return d > 0 && t.substr(d).starts_with(". ");
}

// The inline code spans of a unit's text, which began on `first_line`.
void AddSpans(const std::string& text, int first_line, Unit& unit) {
  std::size_t at = 0;
  while ((at = text.find('`', at)) != std::string::npos) {
    const std::size_t end = text.find('`', at + 1);
    if (end == std::string::npos) break;
    std::string span = text.substr(at + 1, end - at - 1);
    const int line =
        first_line + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
    std::replace(span.begin(), span.end(), '\n', ' ');
    unit.spans.push_back({std::move(span), line});
    at = end + 1;
  }
}

std::vector<Unit> Units(std::string_view markdown) {
  std::vector<Unit> units;
  std::string text;
  int text_line = 0, n = 0;
  bool fenced = false;
  auto flush = [&] {
    if (!text.empty()) {
      Unit u;
      AddSpans(text, text_line, u);
      units.push_back(std::move(u));
    }
    text.clear();
  };
  std::size_t pos = 0;
  while (pos <= markdown.size()) {
    std::size_t eol = markdown.find('\n', pos);
    if (eol == std::string_view::npos) eol = markdown.size();
    const std::string line(markdown.substr(pos, eol - pos));
    pos = eol + 1;
    ++n;
    if (line.find_first_not_of(' ') != std::string::npos &&
        line.substr(line.find_first_not_of(' ')).starts_with("```")) {
      flush();
      fenced = !fenced;
      continue;
    }
    if (fenced) {
      units.push_back(Unit{{{line, n}}, true});
      continue;
    }
    if (line.find_first_not_of(' ') == std::string::npos || StartsUnit(line)) flush();
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    if (text.empty()) text_line = n;
    text += (text.empty() ? "" : "\n") + line;
    if (line.starts_with("#") || line.starts_with("|")) flush();  // one line each
  }
  flush();
  return units;
}

bool IsFlag(std::string_view w) {
  static const std::regex kFlag(R"(^(--[A-Za-z][A-Za-z0-9-]*|-[A-Za-z])$)");
  return std::regex_match(std::string(w), kFlag);
}

// `w` without what follows a flag's name: "--listen=x" -> "--listen", "--tag]" -> "--tag".
std::string FlagName(std::string w) {
  while (!w.empty() && w.front() == '[') w.erase(0, 1);
  if (auto eq = w.find_first_of("=]),"); eq != std::string::npos) w = w.substr(0, eq);
  return w;
}

// Splits a shell line into simple commands: at | || && ; > < -- and around $( … ), never
// inside [ … ] (a usage line's alternatives: [--data-dir DIR | --store URL]); a # word ends it.
std::vector<std::vector<std::string>> Commands(std::string_view text) {
  std::vector<std::vector<std::string>> out(1);
  int depth = 0;
  for (std::string w : Words(text)) {
    if (w.starts_with("#")) break;
    if (auto sub = w.find("$("); sub != std::string::npos) {
      out.emplace_back();  // what came before was an assignment (KEY=$(outpost …)
      w = w.substr(sub + 2);
    }
    static const std::set<std::string> kSeparators = {"|", "||", "&&", ";", ">", "2>", "<", "--"};
    if (depth == 0 && kSeparators.count(w)) {
      out.emplace_back();
      continue;
    }
    for (char c : w) depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    depth = std::max(depth, 0);
    const bool closes = w.ends_with(")") && w.find('(') == std::string::npos;
    if (!w.empty()) out.back().push_back(w);
    if (closes) out.emplace_back();
  }
  return out;
}

// The longest command path that `words` (after "outpost") begins with.
CommandPath PathOf(const std::vector<std::string>& words, const std::set<CommandPath>& commands) {
  CommandPath path, best;
  for (const std::string& w : words) {
    if (w.starts_with("-")) break;
    path.push_back(w);
    if (commands.count(path)) best = path;
  }
  return best;
}

bool IsPrefixOf(const CommandPath& prefix, const CommandPath& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

std::string Show(const CommandPath& path) {
  std::string s = "outpost";
  for (const auto& w : path) s += " " + w;
  return s;
}

}  // namespace

ReadmeRefs ExtractReadme(std::string_view markdown, const std::set<CommandPath>& commands) {
  ReadmeRefs refs;
  for (const Unit& unit : Units(markdown)) {
    std::vector<CommandPath> mentioned;
    std::vector<DocFlag> loose;  // flags of spans that start with one
    for (const Span& span : unit.spans) {
      for (const auto& cmd : Commands(span.text)) {
        if (cmd.empty() || cmd[0] != "outpost") continue;
        const std::vector<std::string> words(cmd.begin() + 1, cmd.end());
        const CommandPath path = PathOf(words, commands);
        if (path.empty()) continue;
        mentioned.push_back(path);
        for (std::size_t i = path.size(); i < words.size(); ++i) {
          const std::string f = FlagName(words[i]);
          if (IsFlag(f)) refs.flags.push_back({f, {path}, span.line});
        }
      }
      const std::vector<std::string> words = Words(span.text);
      if (!unit.code && !words.empty() && FlagName(words[0]).starts_with("--") &&
          IsFlag(FlagName(words[0]))) {
        for (const std::string& w : words) {
          const std::string f = FlagName(w);
          if (f.starts_with("--") && IsFlag(f)) loose.push_back({f, {}, span.line});
        }
      }
    }
    for (DocFlag& f : loose) {
      f.owners = mentioned;
      refs.flags.push_back(std::move(f));
    }
  }
  // Variables: anywhere, code included.
  static const std::regex kVar(R"(OUTPOST_[A-Z0-9_]*)");
  int line = 1;
  std::size_t line_start = 0;
  const std::string text(markdown);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kVar); it != std::sregex_iterator();
       ++it) {
    const std::size_t at = static_cast<std::size_t>(it->position());
    line += static_cast<int>(std::count(text.begin() + line_start, text.begin() + at, '\n'));
    line_start = at;
    if (at > 0 && (text[at - 1] == '$' || (at > 1 && text.compare(at - 2, 2, "${") == 0))) {
      continue;  // a shell variable of an example ("$OUTPOST_V2_ENDPOINT")
    }
    const std::size_t end = at + it->length();
    const bool family = end < text.size() && (text[end] == '<' || text[end] == '*');
    refs.variables.push_back({it->str(), family, line});
  }
  return refs;
}

std::vector<std::string> CheckReadme(const ReadmeRefs& refs, const BinaryDocs& binary) {
  std::vector<std::string> problems;
  for (const DocFlag& f : refs.flags) {
    bool ok = false;
    for (const auto& entry : binary.flags) {
      bool owned = f.owners.empty();
      for (const CommandPath& o : f.owners) owned = owned || IsPrefixOf(o, entry.first);
      ok = ok || (owned && entry.second.count(f.flag));
    }
    if (ok) continue;
    std::string whose;
    for (const auto& o : f.owners) whose += (whose.empty() ? "`" : " or `") + Show(o) + "`";
    problems.push_back("README.md:" + std::to_string(f.line) + ": " + f.flag +
                       " is not a flag of " + (whose.empty() ? "any outpost command" : whose) +
                       " (per --help)");
  }
  for (const DocVariable& v : refs.variables) {
    bool ok = binary.variables.count(v.name) > 0;
    for (const std::string& known : binary.variables) {
      ok = ok || (v.prefix && known.starts_with(v.name)) ||
           (known.ends_with("_") && v.name.starts_with(known));
    }
    if (!ok) {
      problems.push_back("README.md:" + std::to_string(v.line) + ": " + v.name +
                         (v.prefix ? "… is no family" : " is no variable") +
                         " the config loader reads or any --help names");
    }
  }
  return problems;
}

std::set<std::string> FlagsInHelp(std::string_view help) {
  std::set<std::string> out;
  std::size_t pos = 0;
  while (pos < help.size()) {
    std::size_t eol = help.find('\n', pos);
    if (eol == std::string_view::npos) eol = help.size();
    std::string_view line = help.substr(pos, eol - pos);
    pos = eol + 1;
    const std::size_t first = line.find_first_not_of(' ');
    if (first == std::string_view::npos || first == 0 || line[first] != '-') continue;
    const std::vector<std::string> words = Words(line);
    std::string_view names = words[0];
    while (!names.empty()) {  // "-h,--help"
      const std::size_t comma = names.find(',');
      const std::string name(names.substr(0, comma));
      if (IsFlag(name)) out.insert(name);
      if (comma == std::string_view::npos) break;
      names.remove_prefix(comma + 1);
    }
  }
  return out;
}

std::vector<std::string> SubcommandsInHelp(std::string_view help) {
  std::vector<std::string> out;
  bool in_list = false;
  std::size_t pos = 0;
  while (pos < help.size()) {
    std::size_t eol = help.find('\n', pos);
    if (eol == std::string_view::npos) eol = help.size();
    std::string line(help.substr(pos, eol - pos));
    pos = eol + 1;
    std::string lower = line;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "subcommands:") {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty() || line[0] != ' ') break;
    if (line.size() > 2 && line[2] != ' ') out.push_back(Words(line)[0]);  // not a wrapped line
  }
  return out;
}

std::set<std::string> VariablesIn(std::string_view text) {
  static const std::regex kVar(R"(OUTPOST_[A-Z0-9_]*)");
  std::set<std::string> out;
  const std::string s(text);
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kVar); it != std::sregex_iterator();
       ++it) {
    out.insert(it->str());
  }
  return out;
}

}  // namespace outpost::testing
