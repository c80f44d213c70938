#include "aws/service_url.h"

#include <algorithm>

#include "aws/sigv4.h"

namespace outpost::aws {

Result<std::map<std::string, std::string>> ParseServiceUrlQuery(
    std::string_view query, std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view kv = query.substr(start, amp - start);
    start = amp + 1;
    if (kv.empty()) continue;
    std::size_t eq = kv.find('=');
    std::string name = UriDecode(kv.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : UriDecode(kv.substr(eq + 1));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument("unknown parameter '" + name + "' (known: " + list + ")");
    }
    if (!out.emplace(name, value).second) {
      return InvalidArgument("parameter '" + name + "' repeated");
    }
    if (value.empty()) return InvalidArgument("parameter '" + name + "' is empty");
  }
  return out;
}

}  // namespace outpost::aws
