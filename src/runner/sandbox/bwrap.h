// The bubblewrap command line of a sandboxed run (ARCHITECTURE.md §5), as pure functions of the
// LaunchSpec so that every flag can be unit-tested without starting anything.
//
// Layout inside the sandbox: /usr and /etc read-only (plus spec.sandbox.ro_binds at the same
// path), /bin /lib /lib64 /sbin as symlinks into /usr, a private tmpfs /tmp, private /dev and
// /proc, the workspace read-write at /work (the cwd) and the private home at /home/agent; the
// rest of the root (bwrap's tmpfs holding the mount points) is remounted read-only. New
// user, pid, ipc, uts (and cgroup, when the kernel allows) namespaces always; a new network
// namespace (loopback only) unless network == "host".
//
// The environment is NOT on the command line: bwrap hands its own environment to the agent
// (no --clearenv), so the caller passes SandboxEnv() as bwrap's envp and no secret ever shows
// in /proc/<pid>/cmdline.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/run_dir.h"

namespace outpost::sandbox {

// Fixed paths inside the sandbox.
inline constexpr char kWorkDir[] = "/work";
inline constexpr char kHomeDir[] = "/home/agent";
inline constexpr char kOutpostExe[] = "/opt/outpost/outpost";  // allowlist: the forwarder
inline constexpr char kProxySocket[] = "/run/outpost/proxy.sock";
inline constexpr char kProxyListen[] = "127.0.0.1:3128";
inline constexpr char kProxyUrl[] = "http://127.0.0.1:3128";

// The entries of the host's /etc bound read-only (those that exist): users and name service,
// DNS, TLS roots, the Debian alternatives behind /usr/bin links, the dynamic loader, time zone,
// OS identity and shell start-up files. Nothing else of /etc is visible (/etc/mtab is a link
// to /proc/self/mounts).
inline constexpr std::string_view kEtcEntries[] = {"passwd",
                                                   "group",
                                                   "nsswitch.conf",
                                                   "hosts",
                                                   "host.conf",
                                                   "resolv.conf",
                                                   "gai.conf",
                                                   "services",
                                                   "protocols",
                                                   "networks",
                                                   "ssl",
                                                   "ca-certificates",
                                                   "ca-certificates.conf",
                                                   "alternatives",
                                                   "ld.so.cache",
                                                   "ld.so.conf",
                                                   "ld.so.conf.d",
                                                   "localtime",
                                                   "timezone",
                                                   "os-release",
                                                   "debian_version",
                                                   "lsb-release",
                                                   "mime.types",
                                                   "magic",
                                                   "magic.mime",
                                                   "inputrc",
                                                   "bash.bashrc",
                                                   "profile",
                                                   "profile.d",
                                                   "terminfo",
                                                   "locale.alias",
                                                   "environment"};

// Where the shim creates the allowlist proxy's unix socket, in the run directory.
std::string ProxySocketPath(const std::string& run_dir);

// `path` is `dir` or below it ("/tmp/x" is under "/tmp"; "/tmpx" is not).
bool IsUnder(std::string_view path, std::string_view dir);

// Why a host path cannot be bound read-only into a sandbox at the same path ("" when it can):
// the workspace (/work), the agent's home and /proc, /dev, /run are mounted over it.
std::string ShadowedBindReason(std::string_view path);

struct BwrapInput {
  std::string bwrap = "bwrap";  // argv[0]; the shim passes the absolute path it resolved
  std::string run_dir;          // for the proxy socket (allowlist only)
  // Whether a host path exists; ro_binds that do not are skipped. Injectable for tests.
  std::function<bool(const std::string&)> exists;
};

// The full argv: bwrap, its options, "--", then the agent's argv (wrapped in the proxy
// forwarder when network == "allowlist"). Uses spec.workspace, spec.sandbox.home,
// spec.sandbox.ro_binds/network/outpost_exe and spec.argv; never spec.env.
std::vector<std::string> BwrapArgv(const LaunchSpec& spec, const BwrapInput& in);

// The agent's environment as "KEY=VALUE" entries, for bwrap's envp: spec.env, then
// HOME=/home/agent and PWD=/work (forced), OUTPOST_RUN_ID=<run id> (the leftover marker) and,
// for network == "allowlist", the HTTP(S)_PROXY / NO_PROXY variables (both cases).
std::vector<std::string> SandboxEnv(const LaunchSpec& spec);

}  // namespace outpost::sandbox
