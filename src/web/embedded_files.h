// The dashboard's static files (src/web/assets/**) as compiled into the binary by
// embed_assets.cmake. Raw bytes and their SHA-256 only; web/assets.h gives them meaning
// (content types, ETags). Read-only, initialised before main: safe from any thread.
#pragma once

#include <cstddef>
#include <span>

namespace outpost::web {

struct EmbeddedFile {
  const char* path;           // relative to src/web/assets, '/'-separated: "js/app.js"
  const unsigned char* data;  // `size` bytes (followed by a 0 that is not part of the file)
  std::size_t size;
  const char* sha256;  // lower-case hex of the content
};

// Every embedded file, sorted by path. Defined in the generated web_assets_data.cc.
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace outpost::web
