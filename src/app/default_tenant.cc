#include "app/default_tenant.h"

namespace outpost::app {

Result<std::string> DefaultTenantHint(RunStore& runs, AuthStore& auth) {
  ListQuery q;
  q.limit = 1;
  q.tenant = "default";
  auto page = runs.List(q);
  if (!page.ok()) return page.status();
  if (page->runs.empty()) return std::string();
  auto keys = auth.ListKeys(std::string("default"));
  if (!keys.ok()) return keys.status();
  for (const ApiKeyRecord& k : *keys) {
    if (k.status == KeyStatus::kActive) return std::string();
  }
  return std::string(
      "the runs made in open mode (without keys) belong to tenant `default`, which no key "
      "reaches yet; to see them with a key: outpost admin key create --tenant default");
}

}  // namespace outpost::app
