// The messages of the first request: the system prompt that asks for ```lang:path blocks, and
// the user message with the task plus a little workspace context (as the v1 agent sent): up to
// 20 file paths and the head of the README.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace outpost::agents::grok {

inline constexpr std::size_t kMaxListedFiles = 20;
inline constexpr std::size_t kReadmeHeadBytes = 2000;

std::string SystemPrompt();

// Up to `max` regular files under `root`, relative, sorted; hidden entries, node_modules and
// symlinks are skipped; the walk is bounded, so a huge tree costs little.
std::vector<std::string> ListWorkspaceFiles(const std::string& root, std::size_t max);

// The first kReadmeHeadBytes of README.md / README / README.rst / README.txt, or "".
std::string ReadmeHead(const std::string& root);

std::string UserPrompt(const std::string& task, const std::vector<std::string>& files,
                       const std::string& readme_head);

// The follow-up message of turn N+1: what was applied and refused, and how to finish.
std::string FollowUpPrompt(const std::vector<std::string>& written,
                           const std::vector<std::string>& refused);

}  // namespace outpost::agents::grok
