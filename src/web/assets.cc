#include "web/assets.h"

#include <algorithm>
#include <array>
#include <utility>

#include "web/embedded_files.h"

namespace outpost::web {
namespace {

// Only the types the dashboard uses. Text types say their charset, so a browser never guesses.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".ico", "image/x-icon"},
}};

std::vector<Asset> BuildCatalog() {
  std::vector<Asset> out;
  for (const EmbeddedFile& f : EmbeddedFiles()) {
    std::string_view sha(f.sha256);
    out.push_back(Asset{f.path, std::string(ContentTypeFor(f.path)),
                        "\"" + std::string(sha.substr(0, 32)) + "\"",
                        std::string_view(reinterpret_cast<const char*>(f.data), f.size)});
  }
  std::sort(out.begin(), out.end(), [](const Asset& a, const Asset& b) { return a.path < b.path; });
  return out;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view path) {
  for (const auto& [ext, type] : kTypes) {
    if (path.size() > ext.size() && path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

const std::vector<Asset>& AllAssets() {
  static const std::vector<Asset> catalog = BuildCatalog();
  return catalog;
}

const Asset* FindAsset(std::string_view path) {
  const auto& all = AllAssets();
  auto it = std::lower_bound(all.begin(), all.end(), path,
                             [](const Asset& a, std::string_view p) { return a.path < p; });
  return it != all.end() && it->path == path ? &*it : nullptr;
}

}  // namespace outpost::web
