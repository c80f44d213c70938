// The README test's reader (readme_test.cc): which `outpost …` flags and OUTPOST_* variables
// the README names, and where it attributes each flag, checked against what the binary's
// --help pages and the config loader say. Plain text in, plain values out: the test feeds it the
// real README and the real binary; its own unit checks feed it fixtures.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::testing {

using CommandPath = std::vector<std::string>;  // {"admin", "key", "create"}

// A flag the README names, with the commands it attributes it to (none: any command).
struct DocFlag {
  std::string flag;                 // "--artifacts", "-f"
  std::vector<CommandPath> owners;  // on `outpost serve …`: {{"serve"}}
  int line = 0;                     // 1-based, for the message
};

// An OUTPOST_* variable the README names. `prefix`: written as a family ("OUTPOST_SECRET_<NAME>",
// "OUTPOST_QUOTA_*"), so only its prefix must be one the binary reads.
struct DocVariable {
  std::string name;
  bool prefix = false;
  int line = 0;
};

struct ReadmeRefs {
  std::vector<DocFlag> flags;
  std::vector<DocVariable> variables;
};

// Reads `markdown`. Flags come from command lines `outpost <command> …` (fenced blocks and
// inline code; the command is the longest prefix of words in `commands`) and from inline code
// that starts with a flag (`--store URL`), which is attributed to the commands named as
// `outpost <command>` in the same paragraph, list item or table row (any command when none is).
// Variables: every OUTPOST_* word except shell expansions ($OUTPOST_V2_ENDPOINT).
ReadmeRefs ExtractReadme(std::string_view markdown, const std::set<CommandPath>& commands);

// What the binary says, from its --help pages: each command's flags, and every OUTPOST_* word.
struct BinaryDocs {
  std::map<CommandPath, std::set<std::string>> flags;  // every command path, "-h" and "--help" too
  std::set<std::string> variables;                     // exact names, or prefixes ending in '_'
};

// One line per README reference the binary does not back: a flag no owner accepts, a variable
// nothing reads. Empty when the README matches.
std::vector<std::string> CheckReadme(const ReadmeRefs& refs, const BinaryDocs& binary);

// From one CLI11 --help page: the flags of its option lines and the names of its subcommands.
std::set<std::string> FlagsInHelp(std::string_view help);
std::vector<std::string> SubcommandsInHelp(std::string_view help);
// Every OUTPOST_[A-Z0-9_]* word in `text`.
std::set<std::string> VariablesIn(std::string_view text);

}  // namespace outpost::testing
