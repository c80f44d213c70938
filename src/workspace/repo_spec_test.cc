#include "workspace/repo_spec.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::workspace {
namespace {

using outpost::testing::StatusIs;
using ::testing::HasSubstr;

TEST(RepoSpec, OwnerRepoKeepsTheOwner) {
  auto r = ParseRepoSpec("acme/widgets", false);
  ASSERT_OK(r);
  EXPECT_EQ(r->url, "https://github.com/acme/widgets.git");
  EXPECT_EQ(r->name, "widgets");
  EXPECT_FALSE(r->local);
  EXPECT_EQ(ParseRepoSpec("acme/widgets.git", false)->url, "https://github.com/acme/widgets.git");
}

TEST(RepoSpec, GitUrlsAreTakenAsGiven) {
  for (const char* url : {"https://github.com/acme/widgets.git", "ssh://git@host:2222/a/b.git",
                          "git@github.com:acme/widgets.git", "git://example.com/x/y"}) {
    auto r = ParseRepoSpec(url, false);
    ASSERT_OK(r) << url;
    EXPECT_EQ(r->url, url);
  }
  EXPECT_EQ(ParseRepoSpec("git@github.com:acme/widgets.git", false)->name, "widgets");
}

TEST(RepoSpec, LocalPathIsRefusedUnlessAllowed) {
  EXPECT_THAT(ParseRepoSpec("/srv/git/widgets", false),
              StatusIs(Code::kInvalidArgument, HasSubstr("--allow-local-repos")));

  auto allowed = ParseRepoSpec("/srv/git/widgets", true);
  ASSERT_OK(allowed);
  EXPECT_TRUE(allowed->local);
  EXPECT_EQ(allowed->url, "/srv/git/widgets");
  EXPECT_EQ(ParseRepoSpec("file:///srv/git/w.git", true)->url, "/srv/git/w.git");
}

TEST(RepoSpec, RejectsWhatIsNeitherOwnerRepoNorUrlNorPath) {
  for (const char* bad : {"widgets", "acme/../x", "../acme/x", "ext::sh -c touch% /tmp/x", "-u/x",
                          "acme/widgets/extra", "relative/path/x", "https://",
                          "git@host:-oProxyCommand=x", "/srv/../etc"}) {
    EXPECT_THAT(ParseRepoSpec(bad, true), StatusIs(Code::kInvalidArgument)) << bad;
  }
}

TEST(RepoSpec, CredentialsAreStrippedFromOrigin) {
  EXPECT_EQ(WithoutCredentials("https://x-access-token:ghp_abc@github.com/a/b.git"),
            "https://github.com/a/b.git");
  EXPECT_EQ(WithoutCredentials("ssh://git@host/a/b.git"), "ssh://git@host/a/b.git");
  EXPECT_EQ(WithoutCredentials("git@github.com:a/b.git"), "git@github.com:a/b.git");
  EXPECT_EQ(WithoutCredentials("/srv/a"), "/srv/a");
}

// F1 (security audit): the token goes to github.com over https, and nowhere else.
TEST(RepoSpec, F1_TokenOnlyForHttpsUrlsOfAListedHost) {
  const std::map<std::string, std::string> hosts{{"github.com", "GITHUB_TOKEN"},
                                                 {"ghe.example.com", "GHE_TOKEN"}};
  auto gh = TokenFor("https://github.com/acme/widgets.git", hosts);
  ASSERT_TRUE(gh.has_value());
  EXPECT_EQ(gh->url, "https://github.com");
  EXPECT_EQ(gh->secret, "GITHUB_TOKEN");
  auto ghe = TokenFor("https://x@GHE.example.com:443/a/b.git", hosts);
  ASSERT_TRUE(ghe.has_value());
  EXPECT_EQ(ghe->url, "https://ghe.example.com");
  EXPECT_EQ(ghe->secret, "GHE_TOKEN");
  EXPECT_EQ(TokenFor(ParseRepoSpec("acme/widgets", false)->url, hosts)->url, "https://github.com");
  for (const char* url : {
           "http://github.com/acme/widgets.git",         // never over plain http
           "git://github.com/acme/widgets.git",          // nor git://
           "ssh://git@github.com/acme/widgets.git",      // ssh has its own keys
           "git@github.com:acme/widgets.git",            //
           "https://attacker.example/x/y.git",           // an unlisted host
           "https://github.com.attacker.example/x.git",  // not a suffix match
           "https://attacker.example/github.com/x.git",  // the path is not the host
           "https://github.com@attacker.example/x.git",  // userinfo is not the host
           "https://github.com:8443/acme/widgets.git",   // another port
           "https://github%2ecom/acme/widgets.git",      // encoded
           "https://github.com./acme/widgets.git",       // not the listed spelling
           "https://[::1]/a/b.git",                      //
           "/srv/git/widgets",                           //
       }) {
    EXPECT_FALSE(TokenFor(url, hosts).has_value()) << url;
  }
  EXPECT_FALSE(TokenFor("https://github.com/a/b.git", {}).has_value());
}

}  // namespace
}  // namespace outpost::workspace

namespace outpost::workspace {
namespace {

// F9 item 1: a local repo resolves (links, `..`) under a root and never into the data dir.
TEST(LocalRepo, F9_OnlyUnderARootAndNeverInTheDataDir) {
  namespace fs = std::filesystem;
  testing::TempDir tmp("outpost-f9");
  const std::string base = tmp.path(), root = base + "/root", data = base + "/root/data";
  fs::create_directories(root + "/a/.git");
  fs::create_directories(data + "/repos/abc");
  fs::create_directories(base + "/outside");
  fs::create_directory_symlink(base + "/outside", root + "/out-link");
  fs::create_directory_symlink(data + "/repos/abc", root + "/data-link");
  fs::create_directory_symlink(root + "/a", base + "/outside/in-link");
  const std::vector<std::string> roots{root};
  auto ok = ResolveLocalRepo(root + "/a", roots, data);
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, root + "/a");
  EXPECT_EQ(*ResolveLocalRepo("file://" + root + "/a/", roots, data), root + "/a");
  // A link from outside into the root is fine: its real path is what is cloned.
  EXPECT_EQ(*ResolveLocalRepo(base + "/outside/in-link", roots, data), root + "/a");
  for (const std::string& bad :
       {data + "/repos/abc", data, root + "/data-link", root + "/out-link", base + "/outside",
        root + "/a/../../outside", root + "/missing", std::string("/etc"), root + "-x"}) {
    EXPECT_THAT(ResolveLocalRepo(bad, roots, data),
                StatusIs(Code::kInvalidArgument, HasSubstr("local_repo_roots")))
        << bad;
  }
  EXPECT_FALSE(ResolveLocalRepo(root + "/a", {}, data).ok());  // no root: nothing
  // A data dir given relatively or not yet made is still excluded.
  EXPECT_FALSE(ResolveLocalRepo(data + "/repos/abc", {"/"}, data + "/../data").ok());
  EXPECT_TRUE(ResolveLocalRepo(root + "/a", {"/"}, base + "/not-yet").ok());
}

}  // namespace
}  // namespace outpost::workspace
