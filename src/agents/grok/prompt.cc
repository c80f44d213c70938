#include "agents/grok/prompt.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace outpost::agents::grok {
namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxWalkEntries = 5000;
}  // namespace

std::string SystemPrompt() {
  return "You are a coding agent working in a repository checked out in the current directory. "
         "To create or change a file, reply with its COMPLETE new content in a fenced code block "
         "whose info string is the language, a colon and the file's path relative to the "
         "repository root, for example:\n```python:src/app.py\nprint(\"hi\")\n```\n"
         "Use relative paths only; never absolute paths or '..'. Files you do not put in such a "
         "block are left unchanged. Explain briefly what you changed.";
}

std::vector<std::string> ListWorkspaceFiles(const std::string& root, std::size_t max) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  std::size_t seen = 0;
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (++seen > kMaxWalkEntries) break;
    std::string name = it->path().filename().string();
    auto status = it->symlink_status(ec);
    if (ec) break;
    if (name.starts_with('.') || name == "node_modules") {
      if (fs::is_directory(status)) it.disable_recursion_pending();
      continue;
    }
    if (fs::is_regular_file(status)) {
      files.push_back(fs::relative(it->path(), root, ec).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.size() > max) files.resize(max);
  return files;
}

std::string ReadmeHead(const std::string& root) {
  for (const char* name : {"README.md", "README", "README.rst", "README.txt"}) {
    int fd = ::open((root + "/" + name).c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    std::string head(kReadmeHeadBytes, '\0');
    ssize_t n = ::read(fd, head.data(), head.size());
    ::close(fd);
    if (n <= 0) continue;
    head.resize(static_cast<std::size_t>(n));
    return head;
  }
  return "";
}

std::string UserPrompt(const std::string& task, const std::vector<std::string>& files,
                       const std::string& readme_head) {
  std::string out = "Task:\n" + task + "\n";
  if (!files.empty()) {
    out += "\nSome files in the repository:\n";
    for (const auto& f : files) out += "- " + f + "\n";
  }
  if (!readme_head.empty()) out += "\nREADME (beginning):\n" + readme_head + "\n";
  return out;
}

std::string FollowUpPrompt(const std::vector<std::string>& written,
                           const std::vector<std::string>& refused) {
  std::string out = "Applied files:";
  for (const auto& w : written) out += " " + w;
  if (written.empty()) out += " none";
  if (!refused.empty()) {
    out += "\nRefused (not written):";
    for (const auto& r : refused) out += "\n- " + r;
  }
  out +=
      "\nIf more changes are needed, reply with further file blocks; otherwise reply without "
      "any file block.";
  return out;
}

}  // namespace outpost::agents::grok
