#include "http/access.h"

namespace outpost::http {

const std::vector<std::string>& AllScopes() {
  static const std::vector<std::string> kAll = {
      std::string(scope::kDispatch), std::string(scope::kStatus),  std::string(scope::kList),
      std::string(scope::kCancel),   std::string(scope::kPromote), std::string(scope::kAdmin)};
  return kAll;
}

bool IsKnownScope(std::string_view s) {
  const auto& all = AllScopes();
  return std::find(all.begin(), all.end(), s) != all.end();
}

}  // namespace outpost::http
