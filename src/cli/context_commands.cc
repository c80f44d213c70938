#include "cli/context_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/artifact_download.h"
#include "cli/cli_config.h"
#include "cli/format.h"
#include "client/api_client.h"
#include "common/json_util.h"

extern char** environ;

namespace outpost::cli {

using client::ApiClient;
using client::ListRunsQuery;
using client::ParseEndpoint;
namespace {

namespace json = boost::json;

struct ContextFlags {
  std::string endpoint, key, name = "default";
  CLI::Option* key_opt = nullptr;
  bool no_key = false;
  OutputFlags out;
};

int Fail(const Status& status, const ClientIo& io) {
  *io.err << FormatError(status);
  return ExitCodeForError(status);
}

Result<std::pair<std::string, CliConfig>> Load() {
  auto path = CliConfigPath();
  if (!path.ok()) return path.status();
  auto config = LoadCliConfig(*path);
  if (!config.ok()) return config.status();
  return std::make_pair(*path, std::move(*config));
}

int ConfigError(const Status& st, const ClientIo& io) {
  *io.err << "outpost: " << st.message() << "\n";
  return st.code() == Code::kInvalidArgument || st.code() == Code::kPermissionDenied ? kExitUsage
                                                                                     : 1;
}

std::string KeyHint(const std::string& key) {
  return key.empty() ? "-" : key.substr(0, std::min<std::size_t>(12, key.size())) + "…";
}

int RunLogin(const ContextFlags& f, const ClientIo& io) {
  if (Status st = CheckContextName(f.name); !st.ok()) return ConfigError(st, io);
  auto ep = ParseEndpoint(f.endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: --endpoint: " << ep.status().message() << "\n";
    return kExitUsage;
  }
  std::string key = f.key;
  if (f.key_opt->count() == 0 && !f.no_key) {  // from stdin: not in the shell's history
    if (::isatty(STDIN_FILENO) == 1) *io.err << "API key (empty for none): " << std::flush;
    std::getline(std::cin, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  }
  if (key.find_first_of(" \t\r\n") != std::string::npos) {
    *io.err << "outpost: the API key contains white space\n";
    return kExitUsage;
  }
  // Checked before it is saved: a key the server refuses is not kept.
  ApiClient api(*ep, key);
  ListRunsQuery q;
  q.limit = 1;
  if (auto page = api.ListRuns(q); !page.ok()) {
    *io.err << "outpost: login to " << ep->ToString() << " failed; nothing saved\n";
    return Fail(page.status(), io);
  }
  auto loaded = Load();
  if (!loaded.ok()) return ConfigError(loaded.status(), io);
  auto& [path, config] = *loaded;
  config.contexts[f.name] = CliContext{ep->ToString(), key};
  config.current = f.name;
  if (Status st = SaveCliConfig(path, config); !st.ok()) return ConfigError(st, io);
  *io.out << "logged in to " << ep->ToString() << (key.empty() ? " (no key)" : "") << "; context '"
          << f.name << "' saved in " << path << " and now current\n";
  return kExitOk;
}

int RunContextList(const ContextFlags& f, const ClientIo& io) {
  auto loaded = Load();
  if (!loaded.ok()) return ConfigError(loaded.status(), io);
  const CliConfig& config = loaded->second;
  if (f.out.Json()) {
    json::array out;
    for (const auto& [name, c] : config.contexts) {
      out.push_back(json::object{{"name", name},
                                 {"endpoint", c.endpoint},
                                 {"apiKeyPrefix", KeyHint(c.api_key)},
                                 {"current", name == config.current}});
    }
    return PrintJsonValue(out, f.out, io);
  }
  if (config.contexts.empty()) {
    *io.out << "no contexts (outpost login --endpoint URL)\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, c] : config.contexts) {
    rows.push_back({name == config.current ? "*" : "", name, c.endpoint, KeyHint(c.api_key)});
  }
  *io.out << FormatTable({"CURRENT", "NAME", "ENDPOINT", "KEY"}, rows);
  return kExitOk;
}

int RunContextUse(const std::string& name, bool remove, const ClientIo& io) {
  auto loaded = Load();
  if (!loaded.ok()) return ConfigError(loaded.status(), io);
  auto& [path, config] = *loaded;
  if (!config.contexts.contains(name)) {
    *io.err << "outpost: no context '" << name << "' (outpost context list)\n";
    return kExitUsage;
  }
  if (remove) {
    config.contexts.erase(name);
    if (config.current == name) config.current.clear();
  } else {
    config.current = name;
  }
  if (Status st = SaveCliConfig(path, config); !st.ok()) return ConfigError(st, io);
  *io.out << (remove ? "deleted context '" : "now using context '") << name << "'\n";
  return kExitOk;
}

int RunContextCurrent(const ClientIo& io) {
  auto loaded = Load();
  if (!loaded.ok()) return ConfigError(loaded.status(), io);
  const CliConfig& config = loaded->second;
  if (config.current.empty()) {
    *io.err << "outpost: no current context (outpost login, outpost context use NAME)\n";
    return 1;
  }
  *io.out << config.current << "\n";
  return kExitOk;
}

// --- diff -------------------------------------------------------------------------------

struct DiffFlags {
  std::string endpoint = "http://127.0.0.1:8080", api_key, id;
  CLI::Option* endpoint_opt = nullptr;
  CLI::Option* key_opt = nullptr;
  OutputFlags out;
};

net::EnvMap ProcessEnv() {
  net::EnvMap env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq != kv.npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

int RunDiff(const DiffFlags& f, const ClientIo& io) {
  GlobalFlags none;
  auto conn = ResolveConnection(io.globals ? *io.globals : none, f.endpoint_opt, f.endpoint,
                                f.key_opt, f.api_key);
  if (!conn.ok()) {
    *io.err << "outpost: " << conn.status().message() << "\n";
    return kExitUsage;
  }
  auto ep = ParseEndpoint(conn->endpoint);
  if (!ep.ok()) {
    *io.err << "outpost: " << ep.status().message() << "\n";
    return kExitUsage;
  }
  ApiClient api(*ep, conn->api_key);
  auto id = ResolveRunId(api, f.id);
  if (!id.ok()) {
    *io.err << FormatError(id.status());
    return id.status().code() == Code::kInvalidArgument ? kExitUsage
                                                        : ExitCodeForError(id.status());
  }
  auto data = api.Get("/runs/" + client::UrlEncode(*id) + "/artifacts");
  if (!data.ok()) return Fail(data.status(), io);
  const json::value* list =
      data->is_object() ? data->as_object().if_contains("artifacts") : nullptr;
  std::optional<ArtifactEntry> entry;
  for (const auto& v : list && list->is_array() ? list->as_array() : json::array{}) {
    if (!v.is_object() || GetString(v.as_object(), "name") != "diff.patch") continue;
    const json::object& a = v.as_object();
    entry = ArtifactEntry{"diff.patch", GetString(a, "url").value_or(""),
                          GetString(a, "sha256").value_or(""), GetInt(a, "sizeBytes").value_or(-1)};
  }
  if (!entry) {
    const std::string state =
        data->is_object() ? GetString(data->as_object(), "artifactsStatus").value_or("") : "";
    *io.err << "outpost: run " << *id << " has no diff.patch"
            << (state.empty() || state == "stored" ? " (it changed no files)"
                                                   : " (artifacts " + state + ")")
            << "\n";
    return kExitApiRefused;
  }
  char dir_template[] = "/tmp/outpost-diff-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (dir == nullptr) return Fail(Internal("cannot make a temporary directory"), io);
  DownloadOptions options;
  options.env = ProcessEnv();
  DownloadOutcome got = DownloadArtifact(*entry, dir, options);
  std::string patch;
  if (got.ok()) {
    std::ifstream in(std::string(dir) + "/diff.patch", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    patch = text.str();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!got.ok()) {
    *io.err << "outpost: diff.patch of " << *id << ": " << VerdictText(got.verdict)
            << (got.detail.empty() ? "" : " (" + got.detail + ")") << "\n";
    return got.verdict == DownloadVerdict::kFetchFailed ? kExitUnavailable : kExitRunFailed;
  }
  if (f.out.Json()) {
    return PrintJsonValue(json::object{{"runId", *id}, {"patch", patch}}, f.out, io);
  }
  *io.out << (io.colour ? ColourDiff(patch) : patch) << std::flush;
  return kExitOk;
}

// --- completion ---------------------------------------------------------------------------

struct Node {
  std::vector<std::string> commands, flags;
};

void Walk(const CLI::App& app, const std::string& path, std::map<std::string, Node>& out) {
  Node& n = out[path];
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& l : o->get_lnames()) n.flags.push_back("--" + l);
    for (const auto& s : o->get_snames()) n.flags.push_back("-" + s);
  }
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden
    n.commands.push_back(sub->get_name());
    Walk(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

std::string CompletionScript(const CLI::App& app, std::string_view shell) {
  std::map<std::string, Node> tree;
  Walk(app, "", tree);
  std::string s;
  if (shell == "fish") {
    s = "# outpost completion fish | source\n";
    s += "complete -c outpost -f\n";
    s += "complete -c outpost -n __fish_use_subcommand -a '" + Join(tree[""].commands) + "'\n";
    for (const auto& [path, node] : tree) {
      if (path.empty()) continue;
      const auto space = path.rfind(' ');
      const std::string last = space == std::string::npos ? path : path.substr(space + 1);
      std::string cond = "__fish_seen_subcommand_from " + last;
      if (!node.commands.empty()) {
        s += "complete -c outpost -n '" + cond + "' -a '" + Join(node.commands) + "'\n";
      }
      for (const auto& flag : node.flags) {
        if (flag.starts_with("--")) {
          s += "complete -c outpost -n '" + cond + "' -l " + flag.substr(2) + "\n";
        }
      }
    }
    return s;
  }
  if (shell == "zsh")
    s = "# outpost completion zsh > \"${fpath[1]}/_outpost\", or source it\n"
        "autoload -U +X bashcompinit && bashcompinit\n";
  else
    s = "# outpost completion bash > /etc/bash_completion.d/outpost, or source it\n";
  s += "_outpost() {\n"
       "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" i w words\n"
       "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
       "    w=\"${COMP_WORDS[i]}\"\n"
       "    case \"$w\" in -*) continue ;; esac\n"
       "    case \" $(_outpost_commands \"$path\") \" in *\" $w \"*) path=\"${path:+$path }$w\" ;; "
       "esac\n"
       "  done\n"
       "  if [[ \"$cur\" == -* ]]; then words=\"$(_outpost_flags \"$path\")\"; else "
       "words=\"$(_outpost_commands \"$path\")\"; fi\n"
       "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
       "}\n"
       "_outpost_commands() {\n  case \"$1\" in\n";
  for (const auto& [path, node] : tree) {
    if (!node.commands.empty())
      s += "    \"" + path + "\") echo \"" + Join(node.commands) + "\" ;;\n";
  }
  s += "  esac\n}\n_outpost_flags() {\n  case \"$1\" in\n";
  for (const auto& [path, node] : tree) {
    s += "    \"" + path + "\") echo \"" + Join(node.flags) + "\" ;;\n";
  }
  s += "  esac\n}\ncomplete -F _outpost outpost\n";
  return s;
}

std::string ColourDiff(std::string_view patch) {
  std::string out;
  std::size_t pos = 0;
  while (pos < patch.size()) {
    std::size_t nl = patch.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? patch.size() : nl;
    std::string_view line = patch.substr(pos, end - pos);
    std::string_view sgr;
    if (line.starts_with("diff ") || line.starts_with("+++") || line.starts_with("---") ||
        line.starts_with("index ")) {
      sgr = "1";
    } else if (line.starts_with("@@")) {
      sgr = "36";
    } else if (line.starts_with("+")) {
      sgr = "32";
    } else if (line.starts_with("-")) {
      sgr = "31";
    }
    out += Paint(line, sgr, true);
    if (nl != std::string_view::npos) out += '\n';
    pos = end + 1;
  }
  return out;
}

void AddContextCommands(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<ContextFlags>();
  auto* login = app.add_subcommand(
      "login", "Save an endpoint and its API key as a named context (checked first) and use it");
  login->add_option("--endpoint", f->endpoint, "URL of `outpost serve`")->required();
  f->key_opt = login->add_option("--key", f->key,
                                 "The API key (default: read one line from stdin, so it stays "
                                 "out of the shell's history)");
  login->add_flag("--no-key", f->no_key, "An open-mode server: no key")->excludes(f->key_opt);
  login->add_option("--context", f->name, "The context's name (default: default)");
  login->footer(std::string(ExitCodeHelp()));
  login->callback([f, exit_code, io] { *exit_code = RunLogin(*f, *io); });

  auto* ctx = app.add_subcommand(
      "context",
      "Saved endpoints and keys (~/.config/outpost/config.toml): list, use, current, "
      "delete");
  ctx->require_subcommand(1);
  auto* list = ctx->add_subcommand("list", "List the saved contexts; * marks the current one");
  AddOutputFlags(list, &f->out);
  list->callback([f, exit_code, io] { *exit_code = RunContextList(*f, *io); });
  auto name = std::make_shared<std::string>();
  auto* use = ctx->add_subcommand("use", "Make NAME the current context");
  use->add_option("NAME", *name, "a saved context")->required();
  use->callback([name, exit_code, io] { *exit_code = RunContextUse(*name, false, *io); });
  auto* current = ctx->add_subcommand("current", "Print the current context's name");
  current->callback([exit_code, io] { *exit_code = RunContextCurrent(*io); });
  auto* del = ctx->add_subcommand("delete", "Forget a saved context (and its key)");
  del->add_option("NAME", *name, "a saved context")->required();
  del->callback([name, exit_code, io] { *exit_code = RunContextUse(*name, true, *io); });
}

void AddDiffCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto f = std::make_shared<DiffFlags>();
  auto* sub = app.add_subcommand(
      "diff", "Print a run's changes (its diff.patch artifact), coloured on a terminal");
  sub->add_option("id", f->id, "Run id, or an unambiguous prefix of it (any case)")->required();
  f->endpoint_opt =
      sub->add_option("--endpoint", f->endpoint, "URL of `outpost serve` (default: the context's)")
          ->envname("OUTPOST_ENDPOINT");
  f->key_opt = sub->add_option("--api-key", f->api_key, "API key (default: the context's)")
                   ->envname("OUTPOST_API_KEY");
  AddOutputFlags(sub, &f->out);
  sub->footer(std::string(ExitCodeHelp()));
  sub->callback([f, exit_code, io] { *exit_code = RunDiff(*f, *io); });
}

void AddCompletionCommand(CLI::App& app, int* exit_code, std::shared_ptr<const ClientIo> io) {
  auto shell = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "completion", "Print a shell completion script: source <(outpost completion bash)");
  sub->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  const CLI::App* root = &app;
  sub->callback([root, shell, exit_code, io] {
    *io->out << CompletionScript(*root, *shell);
    *exit_code = kExitOk;
  });
}

}  // namespace outpost::cli
