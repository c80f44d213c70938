// Opens the AuthStore (tenants and API keys) on the configured store: the SQLite file of
// sqlite:// stores, or the <prefix>-tenants / <prefix>-api-keys tables of dynamodb:// ones
// (created with --create-tables). Shared by `outpost serve` and `outpost admin`.
#pragma once

#include <memory>

#include "config/options.h"
#include "store/auth_store.h"

namespace outpost::app {

Result<std::unique_ptr<AuthStore>> OpenAuthStore(const Options& opts);

}  // namespace outpost::app
