// `outpost admin`: tenants and API keys, working directly on the configured store (no server
// needed; a running `outpost serve` on the same store sees the changes within its cache TTL).
//
//   outpost admin tenant create NAME | list | suspend ID | activate ID
//   outpost admin key create --tenant ID [--scopes a,b] [--name N]
//                            [--expires-in 30d | --expires-at RFC3339]
//   outpost admin key list [--tenant ID]
//   outpost admin key revoke KEYID
//
// Every leaf takes the store flags of `serve` (--config, --data-dir, --store, --create-tables,
// resolved the same way: flags > OUTPOST_* > outpost.toml) and --json. `key create` prints the
// key alone on stdout (so `KEY=$(outpost admin key create ...)` captures it), once: only its
// hash is stored. Exit codes: 0 done, 4 refused (no such tenant/key, a name in use, a suspended
// tenant), 5 the store failed, 64 a bad flag or argument (the message names it).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "config/options.h"

namespace outpost::app {

struct StoreFlags {
  std::string config, data_dir, store;
  bool create_tables = false;
};

// Builds Options as `serve` does (app.cc's BuildOptions).
using OptionsBuilder = std::function<Result<Options>(const StoreFlags&)>;

void AddAdminCommands(CLI::App& app, int* exit_code, OptionsBuilder build);

}  // namespace outpost::app
