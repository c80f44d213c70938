#include "runner/sandbox/bwrap.h"

#include <map>

#include "common/files.h"

// Order matters to bwrap: mounts are made in argument order, so the tmpfs /run comes before
// the socket bound below it, and nothing is bound under /tmp (a later --tmpfs /tmp would hide
// it). The uid is not mapped to 0: the agent is the same unprivileged uid inside as outside,
// so files it creates in the workspace belong to that uid on the host too.
namespace outpost::sandbox {
namespace {

void Add(std::vector<std::string>& v, std::initializer_list<std::string> args) {
  v.insert(v.end(), args);
}

void AddFilesystem(std::vector<std::string>& a, const LaunchSpec& spec, const BwrapInput& in) {
  auto exists = [&](const std::string& p) { return in.exists ? in.exists(p) : FileExists(p); };
  Add(a, {"--ro-bind", "/usr", "/usr"});
  // Of /etc only what programs need to run (audit F15): an operator's config or credentials
  // there (outpost.toml, npmrc, pip.conf, gitconfig) stay out. More: [sandbox] ro_binds.
  for (std::string_view name : kEtcEntries) {
    const std::string p = "/etc/" + std::string(name);
    if (exists(p)) Add(a, {"--ro-bind", p, p});
  }
  Add(a, {"--symlink", "../proc/self/mounts", "/etc/mtab"});
  Add(a, {"--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib"});
  Add(a, {"--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin"});
  auto bind_ro = [&](bool under_tmp) {
    for (const std::string& p : spec.sandbox.ro_binds) {
      if (IsUnder(p, "/tmp") != under_tmp) continue;
      if (exists(p)) Add(a, {"--ro-bind", p, p});
    }
  };
  bind_ro(false);
  Add(a, {"--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc"});
  bind_ro(true);  // after the private /tmp, which would hide them (mount points in the tmpfs)
  Add(a, {"--bind", spec.workspace, kWorkDir, "--bind", spec.sandbox.home, kHomeDir});
  // This binary at a fixed path: the allowlist forwarder and the built-in agents ("{outpost}").
  if (!spec.sandbox.outpost_exe.empty()) {
    Add(a, {"--ro-bind", spec.sandbox.outpost_exe, kOutpostExe});
  }
  if (spec.sandbox.network == "allowlist") {
    Add(a, {"--tmpfs", "/run", "--ro-bind", ProxySocketPath(in.run_dir), kProxySocket});
  }
  // Last: bwrap's own root tmpfs (where the mount points live) becomes read-only too, so a
  // write anywhere but /work, /home/agent, /tmp and /dev fails instead of vanishing silently.
  Add(a, {"--remount-ro", "/"});
}

}  // namespace

bool IsUnder(std::string_view path, std::string_view dir) {
  return path == dir ||
         (path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/');
}

std::string ShadowedBindReason(std::string_view path) {
  for (std::string_view dir :
       {std::string_view(kWorkDir), std::string_view(kHomeDir), std::string_view("/proc"),
        std::string_view("/dev"), std::string_view("/run"), std::string_view("/opt/outpost")}) {
    if (IsUnder(path, dir)) {
      return std::string(path) + " is under " + std::string(dir) +
             ", which the sandbox mounts over: install it elsewhere (e.g. /opt or /var/lib)";
    }
  }
  return "";
}

std::string ProxySocketPath(const std::string& run_dir) { return run_dir + "/proxy.sock"; }

std::vector<std::string> BwrapArgv(const LaunchSpec& spec, const BwrapInput& in) {
  std::vector<std::string> a{in.bwrap,         "--die-with-parent",   "--new-session",
                             "--unshare-user", "--unshare-pid",       "--unshare-ipc",
                             "--unshare-uts",  "--unshare-cgroup-try"};
  a.push_back(spec.sandbox.network == "host" ? "--share-net" : "--unshare-net");
  // No nested user namespace for the agent (audit F16): it would hold every capability there.
  if (spec.sandbox.disable_userns) a.push_back("--disable-userns");
  AddFilesystem(a, spec, in);
  Add(a, {"--chdir", kWorkDir, "--cap-drop", "ALL", "--"});
  if (spec.sandbox.network == "allowlist") {
    Add(a,
        {kOutpostExe, "sandbox-forward", "--listen", kProxyListen, "--socket", kProxySocket, "--"});
  }
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

std::vector<std::string> SandboxEnv(const LaunchSpec& spec) {
  std::map<std::string, std::string> env = spec.env;
  env["HOME"] = kHomeDir;
  env["PWD"] = kWorkDir;
  env["OUTPOST_RUN_ID"] = spec.run_id;
  if (spec.sandbox.network == "allowlist") {
    for (const char* k : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}) {
      env[k] = kProxyUrl;
    }
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1";
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace outpost::sandbox
