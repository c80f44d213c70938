// Content negotiation helpers: Content-Type checks for JSON bodies and Accept preferences.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outpost::http {

// True for "application/json", optionally with "charset=utf-8" (any case, optionally quoted).
// Other parameters or charsets are not JSON we accept.
bool IsJsonContentType(std::string_view content_type);

// The quality (0..1) the Accept header gives `media_type` ("text/html"), by the most specific
// matching range (exact > type/* > */*). An absent or empty header accepts everything (1).
double AcceptQuality(const std::optional<std::string>& accept, std::string_view media_type);

// True when the Accept header ranks text/html strictly above application/json (browsers).
bool PrefersHtml(const std::optional<std::string>& accept);

}  // namespace outpost::http
