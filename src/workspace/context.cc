#include "workspace/context.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "secrets/redactor.h"

// Section sources follow the original's assemble-context.sh, minus what only made sense on
// its one host (the operator's hard-coded PROFILE is read from the repository here).
namespace outpost::workspace {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxFileBytes = 256 * 1024;
constexpr int kJournalFloorTokens = 200;

int Tokens(std::string_view s) { return static_cast<int>((s.size() + 3) / 4); }

// Only regular files inside the checkout: this runs as root, and a repository could make
// `docs` a symlink to some directory of the host's.
bool Inside(const fs::path& root, const fs::path& p) {
  std::error_code ec;
  const fs::path real = fs::canonical(p, ec);
  if (ec) return false;
  const fs::path top = fs::canonical(root, ec);
  return !ec && real.string().starts_with(top.string() + "/");
}

std::vector<std::string> ReadLines(const fs::path& root, const fs::path& p, std::size_t max_lines) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec) || !Inside(root, p)) return out;
  std::ifstream in(p);
  std::string line;
  std::size_t bytes = 0;
  while (out.size() < max_lines && bytes < kMaxFileBytes && std::getline(in, line)) {
    bytes += line.size() + 1;
    out.push_back(line);
  }
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct Section {
  std::string name;
  std::string body;
};

// SOUL: the identity lines of the first soul-ish file (its first lines when it has none).
std::string Soul(const fs::path& repo, const std::string& project, fs::path* source) {
  for (const fs::path& rel :
       {fs::path("docs") / (Upper(project) + "_SOUL.md"), fs::path("docs/SOUL.md"),
        fs::path(Upper(project) + "_SOUL.md"), fs::path("README.md")}) {
    std::vector<std::string> lines = ReadLines(repo, repo / rel, 50);
    if (lines.empty()) continue;
    *source = repo / rel;
    static const std::regex kKey(R"(^(Purpose|Type|Identity|Constraints|Directives):.*)");
    std::vector<std::string> picked;
    for (const auto& l : lines) {
      if (picked.size() < 10 && std::regex_match(l, kKey)) picked.push_back(l);
    }
    if (picked.empty()) {
      for (const auto& l : lines) {
        if (picked.size() < 10 && !l.empty()) picked.push_back(l);
      }
    }
    return "Project: " + project + "\n" + Join(picked);
  }
  return "Project: " + project + "\n";
}

std::string Anchors(const fs::path& repo, const fs::path& soul) {
  std::vector<std::string> lines = ReadLines(repo, repo / "docs/ANCHORS.md", 30);
  if (!lines.empty()) return Join(lines);
  static const std::regex kHead(R"(^#*\s*(Non-Negotiables|Decisions|Constraints):?\s*$)");
  std::vector<std::string> out;
  bool in = false;
  for (const auto& l : ReadLines(repo, soul, 200)) {
    if (std::regex_match(l, kHead)) {
      in = true;
    } else if (in && (l.starts_with("#") || out.size() >= 10)) {
      break;
    } else if (in && !l.empty()) {
      out.push_back(l);
    }
  }
  return Join(out);
}

std::string Profile(const fs::path& repo) {
  for (const char* rel : {"docs/PROFILE.md", "PROFILE.md"}) {
    std::vector<std::string> lines = ReadLines(repo, repo / rel, 20);
    if (!lines.empty()) return Join(lines);
  }
  return "";
}

// The first `head` and last `tail` tokens of `text`.
std::string Summarize(const std::string& text, int head, int tail) {
  const std::size_t h = static_cast<std::size_t>(head) * 4, t = static_cast<std::size_t>(tail) * 4;
  if (text.size() <= h + t) return text;
  return text.substr(0, h) + "\n...[summarized for token budget]...\n" +
         text.substr(text.size() - t);
}

// Days since the YYYY-MM-DD a journal's name starts with (0 when it has none).
int AgeDays(const std::string& name, WallTime now) {
  static const std::regex kDate(R"(^(\d{4})-(\d{2})-(\d{2}).*)");
  std::smatch m;
  if (!std::regex_match(name, m, kDate)) return 0;
  using namespace std::chrono;
  year_month_day ymd{year{std::stoi(m[1])}, month{static_cast<unsigned>(std::stoi(m[2]))},
                     day{static_cast<unsigned>(std::stoi(m[3]))}};
  if (!ymd.ok()) return 0;
  auto then = sys_days(ymd);
  return static_cast<int>(duration_cast<days>(now - then).count());
}

std::string Journal(const fs::path& repo, WallTime now) {
  std::error_code ec;
  std::vector<fs::path> journals;
  // Links are never followed: the checkout is the agent's, and a linked directory's listing
  // (made as root) would put a host file name into context.md.
  const fs::path dir = repo / "session-journals";
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return "";
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (fs::is_regular_file(e.symlink_status(ec)) && e.path().extension() == ".md") {
      journals.push_back(e.path());
    }
  }
  if (journals.empty()) return "";
  const fs::path newest = *std::max_element(journals.begin(), journals.end());
  const int age = AgeDays(newest.filename().string(), now);
  std::string header = "Source: session-journals/" + newest.filename().string() + "\n";
  if (age > 7) return header + Summarize(Join(ReadLines(repo, newest, 2000)), 150, 100);
  if (age >= 3) {
    static const std::regex kKey(R"(^(#|.*(Status|Accomplish|Next|Blocker)).*)", std::regex::icase);
    std::vector<std::string> picked;
    for (const auto& l : ReadLines(repo, newest, 2000)) {
      if (picked.size() < 20 && std::regex_match(l, kKey)) picked.push_back(l);
    }
    return header + Join(picked);
  }
  return header + Join(ReadLines(repo, newest, 50));
}

std::string Roadmap(const fs::path& repo) {
  static const std::regex kKey(R"(^(#|Phase|Current|Goal|Next|Blocker).*)");
  std::vector<std::string> picked;
  for (const auto& l : ReadLines(repo, repo / "docs/MASTER_ROADMAP.md", 2000)) {
    if (picked.size() < 15 && std::regex_match(l, kKey)) picked.push_back(l);
  }
  return Join(picked);
}

std::string Render(const std::vector<Section>& sections, const std::string& id,
                   std::string_view level) {
  std::string out = "<outpost_context version=\"1.0\" injection_id=\"" + id + "\" level=\"" +
                    std::string(level) + "\">\n";
  for (const auto& s : sections) out += "## " + s.name + "\n" + s.body + "\n";
  return out + "</outpost_context>\n";
}

void Erase(std::vector<Section>& v, std::string_view name, std::vector<std::string>& dropped) {
  auto it = std::find_if(v.begin(), v.end(), [&](const Section& s) { return s.name == name; });
  if (it == v.end()) return;
  v.erase(it);
  dropped.emplace_back(name);
}

Section* Find(std::vector<Section>& v, std::string_view name) {
  for (auto& s : v) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

void Trim(std::vector<Section>& v, Context& c, const std::string& id, std::string_view level) {
  auto over = [&] { return Tokens(Render(v, id, level)) > c.budget; };
  if (over()) Erase(v, "ROADMAP", c.dropped);
  if (over()) Erase(v, "PROFILE", c.dropped);
  if (Section* j = Find(v, "JOURNAL");
      j != nullptr && over() && Tokens(j->body) > kJournalFloorTokens) {
    j->body = Summarize(j->body, 100, 50);
  }
  if (over()) Erase(v, "JOURNAL", c.dropped);
  // SOUL and ANCHORS are cut, last section first, to what still fits.
  for (auto it = v.rbegin(); it != v.rend() && over(); ++it) {
    const int excess = Tokens(Render(v, id, level)) - c.budget;
    const std::size_t cut = std::min(it->body.size(), static_cast<std::size_t>(excess) * 4 + 4);
    it->body.resize(it->body.size() - cut);
  }
}

}  // namespace

int BudgetFor(std::string_view level) {
  if (level == "minimal") return 600;
  if (level == "full") return 1800;
  return 1200;
}

// The secrets component's redactor knows the original's scrub-secrets patterns (and more).
std::string Scrub(std::string text, int* count) {
  auto markers = [](std::string_view t) {
    int n = 0;
    for (std::size_t at = t.find("[REDACTED"); at != std::string_view::npos;
         at = t.find("[REDACTED", at + 1)) {
      ++n;
    }
    return n;
  };
  const int before = markers(text);
  std::string out = Redactor::RedactAll(text);
  if (count != nullptr) *count += std::max(0, markers(out) - before);
  return out;
}

Context AssembleContext(const std::string& repo_dir, const std::string& project,
                        std::string_view level, WallTime now, const std::string& id) {
  Context c;
  c.budget = BudgetFor(level);
  const fs::path repo(repo_dir);
  fs::path soul_path;
  std::vector<Section> v{{"SOUL", Soul(repo, project, &soul_path)}};
  if (level != "minimal") {
    v.push_back({"ANCHORS", Anchors(repo, soul_path)});
    v.push_back({"PROFILE", Profile(repo)});
  }
  v.push_back({"JOURNAL", Journal(repo, now)});
  if (level == "full") v.push_back({"ROADMAP", Roadmap(repo)});
  std::erase_if(v, [](const Section& s) { return s.body.empty(); });
  for (auto& s : v) s.body = Scrub(std::move(s.body), &c.redactions);
  Trim(v, c, id, level);
  for (const auto& s : v) c.sections.push_back(s.name);
  c.text = Render(v, id, level);
  c.tokens = Tokens(c.text);
  return c;
}

std::string EnrichTask(const std::string& context, const std::string& task) {
  return context + "\n\n<task>\n" + task + "\n</task>";
}

}  // namespace outpost::workspace
