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

// F9 item 2 (security audit): a tenant's clone carries its own token; another tenant's never;
// the operator's only in the operator's own runs (tenant "default") or for a shared host.
TEST(RepoSpec, F9_ATenantsTokenNeverServesAnotherTenant) {
  const std::string a = "01JA0000000000000000000000", b = "01JB0000000000000000000000";
  GitTokens tokens;
  tokens.hosts = {{"github.com", "GITHUB_TOKEN"}, {"ghe.example.com", "GHE_TOKEN"}};
  tokens.tenants[a] = {{"github.com", "A_GITHUB_TOKEN"}, {"git.a.example", "A_OWN_HOST"}};
  const std::string url = "https://github.com/acme/private.git";
  EXPECT_EQ(TokenFor(url, a, tokens)->secret, "A_GITHUB_TOKEN");
  EXPECT_EQ(TokenFor(url, a, tokens)->url, "https://github.com");
  EXPECT_EQ(TokenFor("https://git.a.example/x.git", a, tokens)->secret, "A_OWN_HOST");
  EXPECT_EQ(TokenFor(url, kOperatorTenant, tokens)->secret, "GITHUB_TOKEN");
  for (const std::string& u : {url, std::string("https://git.a.example/x.git"),
                               std::string("https://ghe.example.com/x.git")}) {
    EXPECT_FALSE(TokenFor(u, b, tokens).has_value()) << u;
  }
  // A's own host has no token for A over http, another port or ssh either (F1 holds).
  EXPECT_FALSE(TokenFor("http://github.com/acme/private.git", a, tokens).has_value());
  EXPECT_FALSE(TokenFor("git@github.com:acme/private.git", a, tokens).has_value());
  // Shared by the operator: every tenant without its own token gets the operator's.
  tokens.shared = {"ghe.example.com"};
  EXPECT_EQ(TokenFor("https://ghe.example.com/x.git", b, tokens)->secret, "GHE_TOKEN");
  EXPECT_FALSE(TokenFor(url, b, tokens).has_value());  // github.com is not shared
  EXPECT_EQ(GitTokenSecrets(tokens),
            (std::set<std::string>{"A_GITHUB_TOKEN", "A_OWN_HOST", "GHE_TOKEN", "GITHUB_TOKEN"}));
}

// F9 item 2: a mirror cache per tenant; a tenant string is a path component only when it is
// plainly one.
TEST(RepoSpec, F9_MirrorsAreKeyedPerTenant) {
  EXPECT_EQ(TenantCacheRoot("/d/repos", "01JA0000000000000000000000"),
            "/d/repos/01JA0000000000000000000000");
  EXPECT_EQ(TenantCacheRoot("/d/repos", "default"), "/d/repos/default");
  EXPECT_NE(TenantCacheRoot("/d/repos", "a"), TenantCacheRoot("/d/repos", "b"));
  for (const char* odd : {"", "..", "a/b", "../x"}) {
    const std::string root = TenantCacheRoot("/d/repos", odd);
    EXPECT_TRUE(root.starts_with("/d/repos/t-")) << odd << ": " << root;
    EXPECT_EQ(root.find('/', 9), std::string::npos) << root;
  }
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
