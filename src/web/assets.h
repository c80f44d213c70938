// The dashboard's assets as the HTTP layer serves them: path, Content-Type (by extension) and a
// strong ETag derived from the content hash, over the files compiled in (web/embedded_files.h).
// Immutable after static initialisation; every function is safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::web {

struct Asset {
  std::string path;          // "js/app.js" (served as /ui/js/app.js)
  std::string content_type;  // "text/javascript; charset=utf-8", ...
  std::string etag;          // "\"<first 32 hex digits of the SHA-256>\"" (a strong validator)
  std::string_view body;     // the embedded bytes
};

// The Content-Type for a file name by its extension; application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view path);

// Every asset, sorted by path.
const std::vector<Asset>& AllAssets();

// The asset at `path` ("index.html", "js/app.js"), or nullptr.
const Asset* FindAsset(std::string_view path);

}  // namespace outpost::web
