// The dashboard over HTTP: GET /ui/{path...} serves the embedded assets (web/assets.h) and
// AppShell answers a browser's GET / with index.html. No API data is served here and no key
// is needed: the page itself asks for one when the API answers 401.
//
// Every answer carries:
//   Content-Type             by extension, with charset for text
//   ETag                     strong, from the content hash; If-None-Match with it (or *) -> 304
//   Cache-Control: no-cache  the URLs are not versioned, so a browser revalidates each time
//                            (a 304 of a few bytes) and never runs a stale module after an upgrade
//   X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer (signed artifact URLs stay
//   private), X-Frame-Options: DENY, and a strict Content-Security-Policy (kContentSecurityPolicy:
//   only this origin's scripts, styles and connections; no inline script or style, no plugins,
//   no framing).
// An unknown asset is a 404 NOT_FOUND envelope; "." / ".." never reach here (ParseTarget).
#pragma once

#include <string_view>

#include "http/router.h"
#include "web/assets.h"

namespace outpost::web {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Registers the dashboard on `router`: GET (and HEAD) /ui/{path...}, and the app shell as a
// browser's GET /. That URL is the API's (its JSON banner, api/routes.h), so the shell comes as a
// middleware in front of it: a GET or HEAD of / whose Accept prefers HTML gets AppShell, every
// other request goes on. Register it after the middlewares that should apply to the shell too
// (the Origin guard, rate limits). `clock` stamps error envelopes; it must outlive the router.
void RegisterWebRoutes(http::Router& router, const Clock& clock);

// index.html for GET / from a browser (RegisterWebRoutes decides by Accept), with Vary: Accept
// because the same URL also serves the JSON banner.
http::Response AppShell(const http::Request& req);

// `asset` answered for `req`: 200 with the body, or 304 when If-None-Match matches its ETag.
http::Response ServeAsset(const Asset& asset, const http::Request& req);

// True when an If-None-Match header value (a list of entity tags, or *) matches `etag`, by the
// weak comparison RFC 9110 §13.1.2 prescribes for it.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

}  // namespace outpost::web
