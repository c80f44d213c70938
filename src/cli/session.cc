#include "cli/session.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "cli/cli_config.h"
#include "cli/client_commands.h"
#include "common/json_util.h"

extern char** environ;

namespace outpost::cli {
namespace {
constexpr const char* kDefaultEndpoint = "http://127.0.0.1:8080";
}  // namespace

Result<Connection> ResolveConnection(const GlobalFlags& globals, const CLI::Option* endpoint_opt,
                                     const std::string& endpoint, const CLI::Option* key_opt,
                                     const std::string& api_key) {
  const bool endpoint_given = endpoint_opt != nullptr && endpoint_opt->count() > 0;
  const bool key_given = key_opt != nullptr && key_opt->count() > 0;
  Connection c{endpoint_given ? endpoint : kDefaultEndpoint, key_given ? api_key : "", ""};
  std::string name = globals.context;
  const bool named = !name.empty();
  if (!named) {
    if (const char* env = std::getenv("OUTPOST_CONTEXT"); env != nullptr) name = env;
  }
  if (endpoint_given && key_given && !named) return c;
  auto path = CliConfigPath();
  if (!path.ok()) {
    if (!name.empty()) return InvalidArgument("--context " + name + ": " + path.status().message());
    return c;
  }
  auto config = LoadCliConfig(*path);
  if (!config.ok()) return config.status();
  if (name.empty()) name = config->current;
  if (name.empty()) return c;
  auto it = config->contexts.find(name);
  if (it == config->contexts.end()) {
    std::string msg = "no context '" + name + "' in " + *path + " (outpost context list)";
    if (name == "minimal" || name == "standard" || name == "full") {
      msg += "; the dispatch's context level is --context-level " + name;
    }
    return InvalidArgument(msg);
  }
  c.context = name;
  if (!endpoint_given) c.endpoint = it->second.endpoint;
  // The context's key goes to the context's endpoint only.
  if (!key_given && c.endpoint == it->second.endpoint) c.api_key = it->second.api_key;
  return c;
}

Result<std::string> RunJq(const std::string& expr, const std::string& input) {
  char in_path[] = "/tmp/outpost-jq-XXXXXX";
  int in_fd = ::mkstemp(in_path);
  if (in_fd < 0) return Internal(std::string("--jq: temporary file: ") + std::strerror(errno));
  ::unlink(in_path);
  if (::write(in_fd, input.data(), input.size()) != static_cast<ssize_t>(input.size()) ||
      ::lseek(in_fd, 0, SEEK_SET) != 0) {
    ::close(in_fd);
    return Internal("--jq: cannot write its input");
  }
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in_fd);
    return Internal("--jq: pipe");
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in_fd);
    ::close(out[0]);
    ::close(out[1]);
    return Internal("--jq: pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<std::string> args = {"jq", "-r", expr};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, "jq", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_fd);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return FailedPrecondition("--jq needs the jq program on PATH (apt-get install jq): " +
                              std::string(std::strerror(rc)));
  }
  // jq's stderr is short; read stdout to the end first, then stderr.
  std::string text, errors;
  char buf[8192];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    errors.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    return FailedPrecondition("--jq needs the jq program on PATH (apt-get install jq)");
  }
  if (WEXITSTATUS(status) != 0) {
    while (!errors.empty() && errors.back() == '\n') errors.pop_back();
    return InvalidArgument("--jq '" + expr + "': " + errors);
  }
  return text;
}

void AddOutputFlags(CLI::App* sub, OutputFlags* f) {
  sub->add_flag("--json", f->json, "Print the server's JSON (the envelope's data) for scripts");
  sub->add_option("-o,--output", f->output, "json: as --json; table: the default")
      ->check(CLI::IsMember({"json", "table"}));
  sub->add_option("--jq", f->jq,
                  "Filter the JSON through jq (jq -r EXPR; needs jq on PATH), e.g. "
                  "'.items[].runId'");
}

int PrintJsonValue(const boost::json::value& v, const OutputFlags& f, const ClientIo& io) {
  if (f.jq.empty()) {
    *io.out << ToJson(v) << "\n";
    return kExitOk;
  }
  auto text = RunJq(f.jq, ToJson(v));
  if (!text.ok()) {
    *io.err << "outpost: " << text.status().message() << "\n";
    return kExitUsage;
  }
  *io.out << *text << std::flush;
  return kExitOk;
}

bool ColourWanted(bool tty) {
  if (!tty) return false;
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && no_colour[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::string_view(term) != "dumb";
}

std::string Paint(std::string_view text, std::string_view sgr, bool on) {
  if (!on || sgr.empty()) return std::string(text);
  return "\x1b[" + std::string(sgr) + "m" + std::string(text) + "\x1b[0m";
}

std::string_view StatusColour(std::string_view status) {
  if (status == "COMPLETED") return "32";
  if (status == "FAILED" || status == "TIMEOUT") return "31";
  if (status == "RUNNING" || status == "PENDING") return "33";
  if (status == "CANCELLED") return "2";
  return "";
}

std::string ClosestWord(std::string_view word, const std::vector<std::string>& choices) {
  std::string best;
  std::size_t best_d = 3;
  for (const std::string& c : choices) {
    // Edit distance with adjacent transpositions (optimal string alignment), three rows.
    std::vector<std::size_t> before(c.size() + 1), prev(c.size() + 1), cur(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (word[i - 1] != c[j - 1])});
        if (i > 1 && j > 1 && word[i - 1] == c[j - 2] && word[i - 2] == c[j - 1]) {
          cur[j] = std::min(cur[j], before[j - 2] + 1);
        }
      }
      before = prev;
      std::swap(prev, cur);
    }
    const std::size_t d = prev[c.size()];
    if (d < best_d && d * 2 < std::max<std::size_t>(word.size(), 2)) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

}  // namespace outpost::cli
