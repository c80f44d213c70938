#include "app/admin_command.h"

#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/default_tenant.h"
#include "app/stores.h"
#include "auth/admin_service.h"
#include "auth/api_key.h"
#include "cli/exit_codes.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/time_util.h"
#include "core/auditor.h"

namespace outpost::app {
namespace json = boost::json;
namespace {

struct AdminFlags {
  StoreFlags store;
  bool json = false;
  bool create = false;         // --create: a store that does not exist yet may be made
  std::string arg;             // NAME, ID or KEYID
  bool arg_is_tenant = false;  // arg is a tenant ID (or name)
  std::string tenant, scopes, name, expires_in, expires_at;
  const CLI::Option* scopes_opt = nullptr;  // given at all (an empty --scopes is an error)
};

// What an action works on: the service, and the stores it is built on (for hints).
struct AdminEnv {
  auth::AdminService& admin;
  AuthStore& auth;
  RunStore& runs;
};

using Action = std::function<int(AdminEnv&, const AdminFlags&)>;

// The flag (or positional argument) a service field comes from, for messages that name what
// to fix. `arg_name` is the command's positional argument: NAME, ID or KEYID.
std::string FlagFor(std::string_view path, std::string_view arg_name) {
  if ((path == "name" && arg_name == "NAME") || (path == "tenant" && arg_name == "ID") ||
      path == "keyId") {
    return std::string(arg_name);
  }
  if (path == "tenant" || path == "scopes" || path == "name") return "--" + std::string(path);
  if (path == "expiresAt") return "--expires-at/--expires-in";
  return std::string(path);
}

int Report(const Status& st, std::string_view arg_name) {
  if (st.code() == Code::kInvalidArgument) {
    const json::value* errors = st.details().if_contains("errors");
    if (errors && errors->is_array() && !errors->as_array().empty()) {
      for (const auto& e : errors->as_array()) {
        std::cerr << "outpost admin: " << FlagFor(e.at("path").as_string(), arg_name) << ": "
                  << e.at("message").as_string().c_str() << "\n";
      }
    } else {
      std::cerr << "outpost admin: " << st.message() << "\n";
    }
    return cli::kExitUsage;
  }
  std::cerr << "outpost admin: " << st.message() << "\n";
  return cli::ExitCodeForError(st);
}

// A tenant named by id (a ULID, or "default": open mode's tenant) or by its name.
Result<std::string> ResolveTenant(AuthStore& store, const std::string& tenant) {
  if (IsUlid(tenant)) return CanonicalUlid(tenant);
  if (tenant == "default") return tenant;
  auto list = store.ListTenants();
  if (!list.ok()) return list.status();
  for (const Tenant& t : *list) {
    if (t.name == tenant) return t.id;
  }
  return NotFound("no tenant has the id or name '" + tenant + "' (outpost admin tenant list)");
}

std::string Time(const std::optional<WallTime>& t, const char* none) {
  return t ? FormatTime(*t) : none;
}

json::object TenantJson(const Tenant& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"status", ToString(t.status)},
          {"createdAt", FormatTime(t.created_at)}};
}

std::string Scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : ",") + s;
  return out;
}

json::object KeyJson(const ApiKeyRecord& k) {
  json::array scopes;
  for (const auto& s : k.scopes) scopes.emplace_back(s);
  json::object o{{"keyId", k.key_id},
                 {"tenant", k.tenant},
                 {"name", k.name},
                 {"prefix", k.prefix},
                 {"scopes", std::move(scopes)},
                 {"status", ToString(k.status)},
                 {"createdAt", FormatTime(k.created_at)},
                 {"useCount", k.use_count}};
  o["expiresAt"] = k.expires_at ? json::value(FormatTime(*k.expires_at)) : json::value(nullptr);
  o["revokedAt"] = k.revoked_at ? json::value(FormatTime(*k.revoked_at)) : json::value(nullptr);
  o["lastUsedAt"] =
      k.last_used_at ? json::value(FormatTime(*k.last_used_at)) : json::value(nullptr);
  return o;
}

int TenantCreate(AdminEnv& env, const AdminFlags& f) {
  auth::AdminService& admin = env.admin;
  auto t = admin.CreateTenant(f.arg);
  if (!t.ok()) return Report(t.status(), "NAME");
  if (f.json) {
    std::cout << json::serialize(TenantJson(*t)) << "\n";
  } else {
    std::cout << t->id << "\n";
    std::cerr << "created tenant " << t->id << " (" << t->name << ")\n";
  }
  return cli::kExitOk;
}

int TenantList(AdminEnv& env, const AdminFlags& f) {
  auth::AdminService& admin = env.admin;
  auto list = admin.ListTenants();
  if (!list.ok()) return Report(list.status(), "");
  if (f.json) {
    json::array out;
    for (const Tenant& t : *list) out.push_back(TenantJson(t));
    std::cout << json::serialize(out) << "\n";
    return cli::kExitOk;
  }
  std::printf("%-26s  %-10s  %-24s  %s\n", "ID", "STATUS", "CREATED", "NAME");
  for (const Tenant& t : *list) {
    std::printf("%-26s  %-10s  %-24s  %s\n", t.id.c_str(), ToString(t.status).data(),
                FormatTime(t.created_at).c_str(), t.name.c_str());
  }
  return cli::kExitOk;
}

Action TenantSetStatus(bool suspend) {
  return [suspend](AdminEnv& env, const AdminFlags& f) -> int {
    auth::AdminService& admin = env.admin;
    auto t = suspend ? admin.SuspendTenant(f.arg) : admin.ActivateTenant(f.arg);
    if (!t.ok()) return Report(t.status(), "ID");
    if (f.json) {
      std::cout << json::serialize(TenantJson(*t)) << "\n";
    } else {
      std::cout << "tenant " << t->id << " (" << t->name << ") is " << ToString(t->status)
                << (suspend ? "; its keys stop working within 5 s" : "") << "\n";
    }
    return cli::kExitOk;
  };
}

// --scopes / --expires-in / --expires-at into a KeyRequest; nullopt after reporting a bad flag.
std::optional<auth::KeyRequest> ParseKeyRequest(const AdminFlags& f) {
  auth::KeyRequest r{f.tenant, std::nullopt, f.name, std::nullopt};
  if (f.scopes_opt != nullptr && f.scopes_opt->count() > 0) {
    auto scopes = auth::ParseScopes(f.scopes);
    if (!scopes.ok()) {
      std::cerr << "outpost admin: --scopes: " << scopes.status().message() << "\n";
      return std::nullopt;
    }
    r.scopes = std::move(*scopes);
  }
  if (!f.expires_in.empty()) {
    auto d = auth::ParseDuration(f.expires_in);
    if (!d.ok()) {
      Report(d.status(), "");
      return std::nullopt;
    }
    r.expires_at = RealClock::Instance().Now() + *d;
  }
  if (!f.expires_at.empty()) {
    auto t = ParseTime(f.expires_at);
    if (!t || f.expires_at.size() < 20) {  // a date alone is not a moment
      std::cerr << "outpost admin: --expires-at: must be an RFC 3339 time, e.g. "
                   "2027-01-31T00:00:00Z\n";
      return std::nullopt;
    }
    if (*t <= RealClock::Instance().Now()) {
      std::cerr << "outpost admin: --expires-at: must be in the future\n";
      return std::nullopt;
    }
    r.expires_at = *t;
  }
  return r;
}

int KeyCreate(AdminEnv& env, const AdminFlags& f) {
  auth::AdminService& admin = env.admin;
  std::optional<auth::KeyRequest> request = ParseKeyRequest(f);
  if (!request) return cli::kExitUsage;
  auto k = admin.CreateKey(*request);
  if (!k.ok()) return Report(k.status(), "");
  if (f.json) {
    json::object o = KeyJson(k->record);
    o["key"] = k->key;
    std::cout << json::serialize(o) << "\n";
  } else {
    std::cout << k->key << "\n";
    std::cerr << "API key " << k->record.key_id << " for tenant " << k->record.tenant << " (scopes "
              << Scopes(k->record.scopes) << ", expires " << Time(k->record.expires_at, "never")
              << "). This is the only time it is shown: only its hash is stored.\n";
  }
  // The open-mode runs stay tenant default's: say how to reach them (stderr; stdout is the key).
  if (auto hint = DefaultTenantHint(env.runs, env.auth); hint.ok() && !hint->empty()) {
    std::cerr << "note: " << *hint << "\n";
  }
  return cli::kExitOk;
}

int KeyList(AdminEnv& env, const AdminFlags& f) {
  auth::AdminService& admin = env.admin;
  auto list = admin.ListKeys(f.tenant.empty() ? std::nullopt : std::optional(f.tenant));
  if (!list.ok()) return Report(list.status(), "");
  if (f.json) {
    json::array out;
    for (const ApiKeyRecord& k : *list) out.push_back(KeyJson(k));
    std::cout << json::serialize(out) << "\n";
    return cli::kExitOk;
  }
  const WallTime now = RealClock::Instance().Now();
  std::printf("%-26s  %-26s  %-12s  %-8s  %-24s  %-24s  %6s  %-32s  %s\n", "KEY ID", "TENANT",
              "PREFIX", "STATUS", "EXPIRES", "LAST USED", "USES", "SCOPES", "NAME");
  for (const ApiKeyRecord& k : *list) {
    std::string status(ToString(k.status));
    if (k.status == KeyStatus::kActive && k.expires_at && *k.expires_at <= now) status = "expired";
    std::printf("%-26s  %-26s  %-12s  %-8s  %-24s  %-24s  %6lld  %-32s  %s\n", k.key_id.c_str(),
                k.tenant.c_str(), k.prefix.c_str(), status.c_str(),
                Time(k.expires_at, "never").c_str(), Time(k.last_used_at, "-").c_str(),
                static_cast<long long>(k.use_count), Scopes(k.scopes).c_str(), k.name.c_str());
  }
  return cli::kExitOk;
}

int KeyRevoke(AdminEnv& env, const AdminFlags& f) {
  auth::AdminService& admin = env.admin;
  auto k = admin.RevokeKey(f.arg);
  if (!k.ok()) return Report(k.status(), "KEYID");
  if (f.json) {
    std::cout << json::serialize(KeyJson(*k)) << "\n";
  } else {
    std::cout << "revoked API key " << k->key_id << " (" << k->prefix
              << "…); it stops working within 5 s\n";
  }
  return cli::kExitOk;
}

int RunAction(const AdminFlags& f, const OptionsBuilder& build, const Action& action) {
  ::umask(077);          // the store it may create is the server's (audit F8)
  SetupLogging("warn");  // stderr; stdout carries only the answer (the key)
  auto opts = build(f.store);
  if (!opts.ok()) {
    std::cerr << "outpost admin: " << opts.status().message() << "\n";
    return cli::kExitUsage;
  }
  // A store that does not exist is made only when asked: `admin` run from another directory
  // than `serve` (or with another --data-dir) would otherwise make keys no server sees.
  const std::string url = opts->StoreUrl();
  if (url.starts_with("sqlite://")) {
    const std::string path = url.substr(std::string_view("sqlite://").size());
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 && !f.create) {
      std::cerr << "outpost admin: no store at " << url
                << " (the store `serve` would use with these flags; check --data-dir, --store, "
                   "--config or OUTPOST_DATA_DIR); --create makes a new empty one there\n";
      return cli::kExitUsage;
    }
  } else if (f.create) {
    opts->create_tables = true;  // dynamodb://: --create is --create-tables
  }
  // The default store lives in the data dir, which `serve` would create.
  if (opts->store.empty()) {
    if (Status st = MakeDirs(opts->data_dir, 0711); !st.ok()) return Report(st, "");
  }
  auto store = OpenAuthStore(*opts);
  if (!store.ok()) return Report(store.status(), "");
  // Every change goes to the audit log of the same store, as the server's own calls do.
  auto runs = OpenRunStore(*opts);
  if (!runs.ok()) return Report(runs.status(), "");
  auto log = OpenAuditLog(*opts, **runs, RealClock::Instance());
  if (!log.ok()) return Report(log.status(), "");
  Auditor auditor(**log, RealClock::Instance());
  auth::AdminService admin(**store, RealClock::Instance());
  admin.SetAudit([&auditor](std::string_view action, const std::string& tenant,
                            const std::string& resource, const Status& outcome) {
    RequestContext ctx;
    ctx.tenant = tenant;
    ctx.request_id = "cli-" + NewUlid(RealClock::Instance().Now());
    ctx.client_address = "outpost admin";
    auditor.Call(ctx, action, resource, outcome);
  });
  // --tenant and a tenant ID argument take a name too.
  AdminFlags resolved = f;
  for (std::string* t : {&resolved.tenant, f.arg_is_tenant ? &resolved.arg : nullptr}) {
    if (t == nullptr || t->empty()) continue;
    auto id = ResolveTenant(**store, *t);
    if (!id.ok()) return Report(id.status(), "");
    *t = *id;
  }
  AdminEnv env{admin, **store, **runs};
  return action(env, resolved);
}

CLI::App* Leaf(CLI::App* parent, const std::string& name, const std::string& help,
               const std::shared_ptr<AdminFlags>& f, int* exit_code, const OptionsBuilder& build,
               Action action) {
  CLI::App* sub = parent->add_subcommand(name, help);
  sub->add_option("--config", f->store.config, "outpost.toml (env OUTPOST_CONFIG)");
  sub->add_option("--data-dir", f->store.data_dir,
                  "data directory (env OUTPOST_DATA_DIR, default ./.outpost)");
  sub->add_option("--store", f->store.store,
                  "store URL, as for serve (env OUTPOST_STORE; default the data dir's SQLite)");
  sub->add_flag("--create-tables", f->store.create_tables,
                "dynamodb:// store: create missing tables (env OUTPOST_CREATE_TABLES=1)");
  sub->add_flag("--json", f->json, "print JSON for scripts");
  sub->add_flag("--create", f->create,
                "make the store if it does not exist yet (default: refuse, naming it); "
                "dynamodb://: as --create-tables");
  sub->callback([=] { *exit_code = RunAction(*f, build, action); });
  return sub;
}

}  // namespace

void AddAdminCommands(CLI::App& app, int* exit_code, OptionsBuilder build) {
  CLI::App* admin = app.add_subcommand("admin", "Manage tenants and API keys on the store");
  admin->require_subcommand(1);
  CLI::App* tenant = admin->add_subcommand("tenant", "Tenants: create, list, suspend, activate");
  tenant->require_subcommand(1);
  CLI::App* key = admin->add_subcommand("key", "API keys: create, list, revoke");
  key->require_subcommand(1);
  auto f = std::make_shared<AdminFlags>();

  Leaf(tenant, "create", "Create a tenant; prints its id", f, exit_code, build, TenantCreate)
      ->add_option("NAME", f->arg, "the tenant's name (unique)")
      ->required();
  Leaf(tenant, "list", "List tenants", f, exit_code, build, TenantList);
  auto tenant_arg = std::make_shared<AdminFlags>();
  tenant_arg->arg_is_tenant = true;
  Leaf(tenant, "suspend", "Suspend a tenant: its keys stop working", tenant_arg, exit_code, build,
       TenantSetStatus(true))
      ->add_option("ID", tenant_arg->arg, "the tenant's id or name")
      ->required();
  Leaf(tenant, "activate", "Reactivate a suspended tenant", tenant_arg, exit_code, build,
       TenantSetStatus(false))
      ->add_option("ID", tenant_arg->arg, "the tenant's id or name")
      ->required();

  CLI::App* create =
      Leaf(key, "create", "Create an API key; prints it once", f, exit_code, build, KeyCreate);
  create
      ->add_option("--tenant", f->tenant,
                   "the tenant's id or name; `default`: open mode's tenant (its runs)")
      ->required();
  f->scopes_opt = create->add_option("--scopes", f->scopes,
                                     "comma-separated: dispatch,status,list,cancel,promote,admin "
                                     "(default dispatch,status,list,cancel)");
  create->add_option("--name", f->name, "a label for humans");
  auto* in = create->add_option("--expires-in", f->expires_in, "lifetime: 90m, 12h, 30d, ...");
  create->add_option("--expires-at", f->expires_at, "expiry, RFC 3339")->excludes(in);
  Leaf(key, "list", "List API keys (never the keys themselves)", f, exit_code, build, KeyList)
      ->add_option("--tenant", f->tenant, "only this tenant's (id or name)");
  Leaf(key, "revoke", "Revoke an API key (within 5 s everywhere)", f, exit_code, build, KeyRevoke)
      ->add_option("KEYID", f->arg, "the key's id (from key list)")
      ->required();
}

}  // namespace outpost::app
