// Open mode's tenant `default` once keys exist. Runs made without keys belong to tenant
// `default`, which is a real tenant: `outpost admin key create --tenant default` makes its record
// (id and name `default`) on first use, and a key of it reaches those runs. Until such a key
// exists, `admin key create` and `serve` say so (DefaultTenantHint).
#pragma once

#include <string>

#include "common/status.h"
#include "store/auth_store.h"
#include "store/run_store.h"

namespace outpost::app {

// "" when there is nothing to say: no run of tenant `default`, or an active key of it exists.
// Otherwise one sentence naming the command that makes such a key.
Result<std::string> DefaultTenantHint(RunStore& runs, AuthStore& auth);

}  // namespace outpost::app
