// RequestContext: who is asking, as every entry point into core (REST, MCP, the embedded MCP
// engine) passes it along.
#pragma once

#include <string>
#include <vector>

namespace outpost {

// Who is asking, for tenancy and the audit trail. Over HTTP it is built from the identity the
// request pipeline established (api/request_context.h builds it); tenant "" is an anonymous caller,
// who sees no tenant's runs.
struct RequestContext {
  std::string request_id;
  std::string tenant = "default";
  std::string client_address;
  std::string key_id;               // the API key's id; empty when unauthenticated
  std::vector<std::string> scopes;  // the key's scopes (every scope in open mode)
};

}  // namespace outpost
