// The embedded catalog against the files in src/web/assets: every file is compiled in byte for
// byte, typed by extension, validated by its content hash; the shell loads only embedded files
// and has no inline script or style (the Content-Security-Policy would block them).
#include "web/assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "common/crypto.h"

namespace outpost::web {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(WebAssets, EveryFileUnderAssetsIsEmbeddedByteForByte) {
  std::set<std::string> on_disk;
  for (const auto& e : fs::recursive_directory_iterator(OUTPOST_WEB_ASSET_DIR)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), OUTPOST_WEB_ASSET_DIR).generic_string();
    on_disk.insert(rel);
    const Asset* a = FindAsset(rel);
    ASSERT_NE(a, nullptr) << rel;
    EXPECT_EQ(a->body, ReadFile(e.path())) << rel;
    EXPECT_EQ(a->etag, "\"" + Sha256Hex(a->body).substr(0, 32) + "\"") << rel;
  }
  std::set<std::string> embedded;
  for (const Asset& a : AllAssets()) embedded.insert(a.path);
  EXPECT_EQ(embedded, on_disk);
  EXPECT_TRUE(on_disk.count("index.html"));
}

TEST(WebAssets, ContentTypesByExtension) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("js/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("notes"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".js"), "application/octet-stream");
  for (const Asset& a : AllAssets()) {
    EXPECT_NE(a.content_type, "application/octet-stream") << a.path << " has no known type";
  }
}

TEST(WebAssets, FindAssetIsExact) {
  EXPECT_EQ(FindAsset(""), nullptr);
  EXPECT_EQ(FindAsset("index.htm"), nullptr);
  EXPECT_EQ(FindAsset("/index.html"), nullptr);
  EXPECT_EQ(FindAsset("../index.html"), nullptr);
  ASSERT_NE(FindAsset("js/app.js"), nullptr);
}

// The shell's <script src> and <link href> all name embedded files; no script or style is inline
// and no element carries an inline handler or style attribute.
TEST(WebAssets, ShellLoadsOnlyEmbeddedFilesAndNothingInline) {
  const Asset* shell = FindAsset("index.html");
  ASSERT_NE(shell, nullptr);
  std::string html(shell->body);
  std::regex ref(R"re((?:src|href)="([^"]*)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator();
       ++it) {
    std::string url = (*it)[1];
    if (url.starts_with("#")) continue;  // in-page links of the navigation
    ASSERT_TRUE(url.starts_with("/ui/")) << url;
    EXPECT_NE(FindAsset(url.substr(4)), nullptr) << url;
    ++refs;
  }
  EXPECT_GE(refs, 2);  // at least the stylesheet and the module
  EXPECT_EQ(std::regex_search(html, std::regex(R"(<script(?![^>]*\ssrc=)[^>]*>)")), false);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(std::regex_search(html, std::regex(R"(\s(on[a-z]+|style)=)")), false);
}

// No module builds HTML from strings: data reaches the page as text nodes only.
TEST(WebAssets, ScriptsNeverAssignHtmlStrings) {
  for (const Asset& a : AllAssets()) {
    if (!a.path.ends_with(".js")) continue;
    std::string js(a.body);
    for (std::string_view bad : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                                 "eval(", "new Function"}) {
      EXPECT_EQ(js.find(bad), std::string::npos) << a.path << " uses " << bad;
    }
  }
}

}  // namespace
}  // namespace outpost::web
