#include "runner/sandbox/bwrap.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace outpost::sandbox {
namespace {

LaunchSpec Spec(const std::string& network) {
  LaunchSpec spec;
  spec.run_id = "01JRUN";
  spec.argv = {"claude", "-p", "fix the bug"};
  spec.env = {{"PATH", "/usr/bin:/bin"},
              {"ANTHROPIC_API_KEY", "sk-secret-123"},
              {"HOME", "/root"},
              {"PWD", "/somewhere"}};
  spec.workspace = "/data/runs/01JRUN/workspace";
  spec.sandbox.enabled = true;
  spec.sandbox.uid = spec.sandbox.gid = 200000;
  spec.sandbox.home = "/data/runs/01JRUN/home";
  spec.sandbox.network = network;
  spec.sandbox.outpost_exe = "/usr/local/bin/outpost";
  return spec;
}

BwrapInput Input() {
  return {"/usr/bin/bwrap", "/data/runs/01JRUN", [](const std::string&) { return true; }};
}

// Whether `args` appear consecutively in argv before the "--" that ends bwrap's options.
bool HasOption(const std::vector<std::string>& argv, std::vector<std::string> args) {
  auto end = std::find(argv.begin(), argv.end(), "--");
  return std::search(argv.begin(), end, args.begin(), args.end()) != end;
}

std::vector<std::string> Command(const std::vector<std::string>& argv) {
  auto sep = std::find(argv.begin(), argv.end(), "--");
  return sep == argv.end() ? std::vector<std::string>{}
                           : std::vector<std::string>(sep + 1, argv.end());
}

TEST(BwrapArgv, NetworkNoneUnsharesEverythingAndBindsOnlyWhatTheAgentNeeds) {
  std::vector<std::string> a = BwrapArgv(Spec("none"), Input());
  EXPECT_EQ(a[0], "/usr/bin/bwrap");
  for (const char* opt :
       {"--die-with-parent", "--new-session", "--unshare-user", "--unshare-pid", "--unshare-ipc",
        "--unshare-uts", "--unshare-cgroup-try", "--unshare-net"}) {
    EXPECT_TRUE(HasOption(a, {opt})) << opt;
  }
  EXPECT_FALSE(HasOption(a, {"--share-net"}));
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/usr", "/usr"}));
  // Of /etc only the listed entries that exist (Input() says every path exists).
  EXPECT_FALSE(HasOption(a, {"--ro-bind", "/etc", "/etc"}));
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/etc/passwd", "/etc/passwd"}));
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/etc/ssl", "/etc/ssl"}));
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/etc/alternatives", "/etc/alternatives"}));
  EXPECT_TRUE(HasOption(a, {"--symlink", "../proc/self/mounts", "/etc/mtab"}));
  EXPECT_FALSE(HasOption(a, {"--disable-userns"}));  // only when the bwrap takes it
  EXPECT_TRUE(HasOption(a, {"--symlink", "usr/bin", "/bin"}));
  EXPECT_TRUE(HasOption(a, {"--symlink", "usr/lib", "/lib"}));
  EXPECT_TRUE(HasOption(a, {"--symlink", "usr/lib64", "/lib64"}));
  EXPECT_TRUE(HasOption(a, {"--symlink", "usr/sbin", "/sbin"}));
  EXPECT_TRUE(HasOption(a, {"--tmpfs", "/tmp"}));
  EXPECT_TRUE(HasOption(a, {"--dev", "/dev"}));
  EXPECT_TRUE(HasOption(a, {"--proc", "/proc"}));
  EXPECT_TRUE(HasOption(a, {"--bind", "/data/runs/01JRUN/workspace", "/work"}));
  EXPECT_TRUE(HasOption(a, {"--bind", "/data/runs/01JRUN/home", "/home/agent"}));
  EXPECT_TRUE(HasOption(a, {"--remount-ro", "/", "--chdir", "/work"}));
  EXPECT_TRUE(HasOption(a, {"--cap-drop", "ALL"}));
  EXPECT_FALSE(HasOption(a, {"--clearenv"}));
  EXPECT_FALSE(HasOption(a, {"--setenv"}));
  // This binary is always at its fixed path (built-in agents), but runs nothing by itself here.
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/usr/local/bin/outpost", "/opt/outpost/outpost"}));
  EXPECT_EQ(Command(a), (std::vector<std::string>{"claude", "-p", "fix the bug"}));
}

TEST(BwrapArgv, F16_NestedUserNamespacesAreDisabledWhenBwrapCan) {
  LaunchSpec spec = Spec("none");
  spec.sandbox.disable_userns = true;
  std::vector<std::string> a = BwrapArgv(spec, Input());
  EXPECT_TRUE(HasOption(a, {"--disable-userns"}));
  EXPECT_TRUE(HasOption(a, {"--unshare-user"}));  // --disable-userns requires it
}

TEST(BwrapArgv, F15_EtcEntriesThatDoNotExistAreNotBound) {
  BwrapInput in = Input();
  in.exists = [](const std::string& p) { return p != "/etc/resolv.conf"; };
  std::vector<std::string> a = BwrapArgv(Spec("none"), in);
  EXPECT_FALSE(HasOption(a, {"--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"}));
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/etc/hosts", "/etc/hosts"}));
}

TEST(BwrapArgv, NetworkHostSharesTheNetwork) {
  std::vector<std::string> a = BwrapArgv(Spec("host"), Input());
  EXPECT_TRUE(HasOption(a, {"--share-net"}));
  EXPECT_FALSE(HasOption(a, {"--unshare-net"}));
  EXPECT_EQ(Command(a), (std::vector<std::string>{"claude", "-p", "fix the bug"}));
}

TEST(BwrapArgv, AllowlistBindsTheForwarderAndSocketAndWrapsTheCommand) {
  std::vector<std::string> a = BwrapArgv(Spec("allowlist"), Input());
  EXPECT_TRUE(HasOption(a, {"--unshare-net"}));
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/usr/local/bin/outpost", "/opt/outpost/outpost"}));
  EXPECT_TRUE(HasOption(a, {"--tmpfs", "/run", "--ro-bind", "/data/runs/01JRUN/proxy.sock",
                            "/run/outpost/proxy.sock"}));
  EXPECT_EQ(Command(a),
            (std::vector<std::string>{"/opt/outpost/outpost", "sandbox-forward", "--listen",
                                      "127.0.0.1:3128", "--socket", "/run/outpost/proxy.sock", "--",
                                      "claude", "-p", "fix the bug"}));
}

TEST(BwrapArgv, ExtraReadOnlyBindsThatExistAreBoundAtTheSamePath) {
  LaunchSpec spec = Spec("none");
  spec.sandbox.ro_binds = {"/opt/agent", "/opt/missing"};
  BwrapInput in = Input();
  in.exists = [](const std::string& p) { return p != "/opt/missing"; };
  std::vector<std::string> a = BwrapArgv(spec, in);
  EXPECT_TRUE(HasOption(a, {"--ro-bind", "/opt/agent", "/opt/agent"}));
  EXPECT_FALSE(HasOption(a, {"/opt/missing"}));
}

TEST(BwrapArgv, BindsUnderTmpComeAfterThePrivateTmpSoTheyStayVisible) {
  LaunchSpec spec = Spec("none");
  spec.sandbox.ro_binds = {"/tmp/clis", "/opt/agent", "/tmpx"};
  std::vector<std::string> a = BwrapArgv(spec, Input());
  auto at = [&](std::initializer_list<std::string> seq) {
    std::vector<std::string> want(seq);
    auto it = std::search(a.begin(), a.end(), want.begin(), want.end());
    EXPECT_NE(it, a.end());
    return it - a.begin();
  };
  EXPECT_GT(at({"--ro-bind", "/tmp/clis", "/tmp/clis"}), at({"--tmpfs", "/tmp"}));
  EXPECT_LT(at({"--ro-bind", "/opt/agent", "/opt/agent"}), at({"--tmpfs", "/tmp"}));
  EXPECT_LT(at({"--ro-bind", "/tmpx", "/tmpx"}), at({"--tmpfs", "/tmp"}));
}

TEST(ShadowedBindReason, PathsTheSandboxMountsOverAreNamed) {
  EXPECT_NE(ShadowedBindReason("/work/main/node_modules").find("/work"), std::string::npos);
  EXPECT_NE(ShadowedBindReason("/home/agent/x"), "");
  EXPECT_NE(ShadowedBindReason("/proc"), "");
  EXPECT_EQ(ShadowedBindReason("/workspace-clis"), "");
  EXPECT_EQ(ShadowedBindReason("/tmp/clis"), "");
  EXPECT_EQ(ShadowedBindReason("/var/lib/outpost/clis"), "");
}

TEST(BwrapArgv, NoEnvironmentValueIsOnTheCommandLine) {
  for (const char* net : {"none", "host", "allowlist"}) {
    LaunchSpec spec = Spec(net);
    for (const std::string& arg : BwrapArgv(spec, Input())) {
      EXPECT_EQ(arg.find("sk-secret-123"), std::string::npos) << net << ": " << arg;
      EXPECT_EQ(arg.find("ANTHROPIC_API_KEY"), std::string::npos) << net << ": " << arg;
    }
  }
}

TEST(SandboxEnv, KeepsTheSpecEnvForcesHomeAndPwdAndAddsTheMarker) {
  std::vector<std::string> env = SandboxEnv(Spec("none"));
  EXPECT_EQ(env,
            (std::vector<std::string>{"ANTHROPIC_API_KEY=sk-secret-123", "HOME=/home/agent",
                                      "OUTPOST_RUN_ID=01JRUN", "PATH=/usr/bin:/bin", "PWD=/work"}));
}

TEST(SandboxEnv, AllowlistPointsEveryProxyVariableAtTheForwarder) {
  std::vector<std::string> env = SandboxEnv(Spec("allowlist"));
  for (const char* e : {"HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128",
                        "http_proxy=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128",
                        "NO_PROXY=localhost,127.0.0.1", "no_proxy=localhost,127.0.0.1"}) {
    EXPECT_NE(std::find(env.begin(), env.end(), e), env.end()) << e;
  }
  std::vector<std::string> none = SandboxEnv(Spec("none"));
  EXPECT_EQ(std::count_if(none.begin(), none.end(),
                          [](const std::string& e) {
                            return e.find("proxy") != e.npos || e.find("PROXY") != e.npos;
                          }),
            0);
}

}  // namespace
}  // namespace outpost::sandbox
