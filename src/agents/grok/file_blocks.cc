#include "agents/grok/file_blocks.h"

#include <cctype>
#include <optional>

#include "common/strings.h"

namespace outpost::agents::grok {
namespace {

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

std::size_t FenceLength(std::string_view line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == '`') ++n;
  return n >= 3 ? n : 0;
}

// "File: path" with optional markdown decoration; the path, or nullopt.
std::optional<std::string> FileLabel(std::string_view line) {
  line = Trim(line, kWhitespace);
  while (!line.empty() && (line.front() == '#' || line.front() == '*' || line.front() == '-')) {
    line = Trim(line.substr(1), kWhitespace);
  }
  if (line.size() < 5) return std::nullopt;
  std::string head(line.substr(0, 5));
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head != "file:") return std::nullopt;
  std::string_view rest = line.substr(5);
  while (!rest.empty() && (rest.front() == '*' || rest.front() == ' ' || rest.front() == '`')) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && (rest.back() == '*' || rest.back() == ' ' || rest.back() == '`')) {
    rest.remove_suffix(1);
  }
  if (rest.empty()) return std::nullopt;
  return std::string(rest);
}

// The path in an info string "lang:path" (or ":path"), or "".
std::string InfoPath(std::string_view info) {
  info = Trim(info, kWhitespace);
  auto colon = info.find(':');
  if (colon == std::string_view::npos) return "";
  return std::string(Trim(info.substr(colon + 1), kWhitespace));
}

}  // namespace

std::vector<FileBlock> ExtractFileBlocks(std::string_view reply) {
  std::vector<FileBlock> blocks;
  auto lines = SplitLines(reply);
  std::optional<std::string> pending_label;  // from a "File:" line awaiting its block
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::size_t fence = FenceLength(lines[i]);
    if (fence == 0) {
      if (auto label = FileLabel(lines[i])) {
        pending_label = label;
      } else if (!Trim(lines[i], kWhitespace).empty()) {
        pending_label.reset();  // the label must be followed directly by its block
      }
      continue;
    }
    std::string path = InfoPath(lines[i].substr(fence));
    if (path.empty() && pending_label) path = *pending_label;
    pending_label.reset();
    std::string content;
    std::size_t j = i + 1;
    for (; j < lines.size(); ++j) {
      std::size_t close = FenceLength(lines[j]);
      if (close >= fence && Trim(lines[j].substr(close), kWhitespace).empty()) break;
      content.append(lines[j]).push_back('\n');
    }
    if (j == lines.size()) break;  // unterminated: the reply was cut off
    if (!path.empty()) blocks.push_back({std::move(path), std::move(content)});
    i = j;
  }
  return blocks;
}

}  // namespace outpost::agents::grok
