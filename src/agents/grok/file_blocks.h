// Finding the files a model proposes in its reply.
//
// Two shapes, as the v1 grok agent accepted them:
//   ```lang:path            (the info string carries the path after the first ':')
//   ...content...
//   ```
// and a line naming the file followed by a fenced block whose info string has no path:
//   File: path              (also **File:** `path`, ### File: path)
//   ```lang
//   ...content...
//   ```
// Fenced blocks without a path are prose (examples, shell commands) and are ignored. A fence of
// N >= 3 backticks is closed by a line of at least N backticks and nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace outpost::agents::grok {

struct FileBlock {
  std::string path;     // exactly as written by the model (trimmed); not yet validated
  std::string content;  // the lines between the fences, each ending in '\n'
};

// Blocks in order of appearance; an unterminated final block is dropped (truncated reply).
std::vector<FileBlock> ExtractFileBlocks(std::string_view reply);

}  // namespace outpost::agents::grok
