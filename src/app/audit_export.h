// `outpost audit export`: the audit log of the configured store (app/stores.h) as JSON lines.
#pragma once

#include <ostream>
#include <string>

#include "common/status.h"
#include "config/options.h"

namespace outpost::app {

// `outpost audit export`: every record (of `tenant`, when given) at or after `since`, oldest
// first, one JSON object per line on `out`. Returns the exit code (0; 5 when the store fails;
// 64 for bad options), messages on `err`.
int ExportAudit(const Options& opts, const std::string& since, const std::string& tenant,
                std::ostream& out, std::ostream& err);

}  // namespace outpost::app
