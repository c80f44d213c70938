// The context prepended to an agent's task (the original's v1 `assemble-context.sh`): short
// sections taken from the checked-out repository, scrubbed of secrets, within a token budget
// (tokens ~ chars / 4), saved as <run-dir>/context.md.
//
//   level     budget  sections
//   minimal     600   SOUL, JOURNAL
//   standard   1200   SOUL, ANCHORS, PROFILE, JOURNAL
//   full       1800   SOUL, ANCHORS, PROFILE, JOURNAL, ROADMAP
//
// Over budget, sections go in this order: ROADMAP, PROFILE, then JOURNAL is summarized (first
// 100 + last 50 tokens) and finally dropped; SOUL and ANCHORS are cut last, never dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace outpost::workspace {

struct Context {
  std::string text;                   // what context.md holds; "" when nothing was found
  std::vector<std::string> sections;  // in order, e.g. {"SOUL", "JOURNAL"}
  std::vector<std::string> dropped;   // trimmed away for the budget
  int tokens = 0;
  int budget = 0;
  int redactions = 0;
};

// 600 | 1200 | 1800; an unknown level is "standard".
int BudgetFor(std::string_view level);

// Reads the sections from `repo_dir`. `project` is the repository's name; `now` dates the
// journal (older journals are summarized); `id` goes into the header.
Context AssembleContext(const std::string& repo_dir, const std::string& project,
                        std::string_view level, WallTime now, const std::string& id);

// Replaces secrets (GitHub/AWS/Anthropic/OpenAI/Slack tokens, PEM blocks, JWTs) with
// [REDACTED…] markers (secrets/redactor.h); adds the number replaced to *count when given.
std::string Scrub(std::string text, int* count = nullptr);

// "<context>\n\n<task>\n$TASK\n</task>", as the original prepended it.
std::string EnrichTask(const std::string& context, const std::string& task);

}  // namespace outpost::workspace
