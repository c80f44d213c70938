// Small string helpers shared across components.
#pragma once

#include <string_view>

namespace outpost {

// HTTP's optional whitespace (RFC 9110 OWS): space and tab.
inline constexpr std::string_view kBlanks = " \t";
// What std::isspace accepts in the "C" locale.
inline constexpr std::string_view kWhitespace = " \t\n\v\f\r";

// `s` without leading and trailing characters from `chars` (a view into `s`).
std::string_view Trim(std::string_view s, std::string_view chars = kBlanks);

}  // namespace outpost
