// Logging: spdlog to stderr, one line per event. `SetupLogging` is called once by app/.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace outpost {

void SetupLogging(std::string_view level);

}  // namespace outpost
