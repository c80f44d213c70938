// `outpost serve`: wires store, runner, supervisor, service and HTTP server from Options and
// runs until SIGTERM/SIGINT.
#pragma once

#include "config/options.h"

namespace outpost::app {

int Serve(const Options& opts);

}  // namespace outpost::app
