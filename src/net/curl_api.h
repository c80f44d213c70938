// CurlApi: the libcurl functions net/ uses, loaded with dlopen on first use rather than linked.
//
// Why: the outpost binary is also every run's supervisor (`outpost shim`, exec'ed once per run,
// and once more inside a sandbox). Linked, libcurl4-openssl brings 28 more shared libraries
// (nghttp2, ssh2, ldap, gssapi, rtmp, psl, idn2, …) that the dynamic loader maps and relocates
// at every exec — measured: `outpost --version` 4.2 ms → 8.0 ms, dispatch → COMPLETED +7 ms. The
// shim never makes an HTTP request, so only the processes that do (serve, the CLI, outpost mcp,
// grok) load it, once.
//
// Thread-safety: LoadCurl may be called from any thread; the first call loads.
#pragma once

#include <curl/curl.h>

#include "common/status.h"

namespace outpost::net {

struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL* h);
  void (*easy_reset)(CURL* h);
  CURLcode (*easy_setopt)(CURL* h, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL* h, CURLINFO info, ...);
  CURLcode (*easy_perform)(CURL* h);
  const char* (*easy_strerror)(CURLcode rc);
  CURLSH* (*share_init)();
  CURLSHcode (*share_setopt)(CURLSH* share, CURLSHoption option, ...);
  curl_slist* (*slist_append)(curl_slist* list, const char* s);
  void (*slist_free_all)(curl_slist* list);
};

// libcurl (libcurl.so.4), loaded and resolved on the first call; kFailedPrecondition naming
// the library and what is missing when it cannot be (scripts/install-deps.sh run installs it).
const Result<CurlApi>& LoadCurl();

}  // namespace outpost::net
