#include "net/curl_api.h"

#include <dlfcn.h>

#include <string>

namespace outpost::net {
namespace {

constexpr const char* kLibrary = "libcurl.so.4";

Result<CurlApi> Load() {
  void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = ::dlerror();
    return FailedPrecondition(std::string("cannot load ") + kLibrary + ": " +
                              (why ? why : "unknown error") +
                              " (install libcurl4: scripts/install-deps.sh run)");
  }
  std::string missing;
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
    if (fn == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
  };
  CurlApi api{};
  sym(api.global_init, "curl_global_init");
  sym(api.easy_init, "curl_easy_init");
  sym(api.easy_cleanup, "curl_easy_cleanup");
  sym(api.easy_reset, "curl_easy_reset");
  sym(api.easy_setopt, "curl_easy_setopt");
  sym(api.easy_getinfo, "curl_easy_getinfo");
  sym(api.easy_perform, "curl_easy_perform");
  sym(api.easy_strerror, "curl_easy_strerror");
  sym(api.share_init, "curl_share_init");
  sym(api.share_setopt, "curl_share_setopt");
  sym(api.slist_append, "curl_slist_append");
  sym(api.slist_free_all, "curl_slist_free_all");
  if (!missing.empty()) {
    return FailedPrecondition(std::string(kLibrary) + " lacks " + missing);
  }
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const Result<CurlApi>& LoadCurl() {
  static const Result<CurlApi> api = Load();
  return api;
}

}  // namespace outpost::net
