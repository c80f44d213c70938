// libFuzzer: the dispatch decoder and validator (wire/dispatch_request_json.h,
// core/dispatch_request.h) on a body as POST /dispatch hands it over: parsed with the route's
// limits (depth 32, 10 000 values), decoded, then ValidateDispatchRequests
// with the embedded agents and one configured secret. Properties: an accepted body yields at
// least one run, each with a known agent and a task within the limits; a refused one is
// kInvalidArgument with details.errors[] (a body is bad input, never an internal error).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agents/agent.h"
#include "common/json_util.h"
#include "config/options.h"
#include "core/dispatch_request.h"
#include "secrets/secret_store.h"
#include "wire/dispatch_request_json.h"

namespace {

struct Env {
  outpost::Options opts = outpost::DefaultOptions();
  outpost::AgentRegistry agents{opts};
  std::unique_ptr<outpost::SecretStore> secrets =
      outpost::MakeSecretStore({{"OUTPOST_SECRET_GITHUB_TOKEN", "ghp_x"}}, "");
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Env env;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = outpost::ParseJsonBounded(text, 32, 10'000);
  if (!body.ok()) return 0;
  // Half the inputs also carry an Idempotency-Key header.
  std::optional<std::string> header;
  if (size % 2 == 1) header = "key-1";
  auto parsed = outpost::ValidateDispatchRequests(
      outpost::wire::DecodeDispatchRequest(*body, header), env.agents, env.opts, env.secrets.get());
  if (parsed.ok()) {
    if (parsed->runs.empty()) std::abort();
    for (const outpost::Run& run : parsed->runs) {
      if (!env.opts.agents.count(run.agent)) std::abort();
      if (run.task.empty() || outpost::Utf8Length(run.task) > outpost::kMaxTaskChars) std::abort();
    }
  } else {
    if (parsed.status().code() != outpost::Code::kInvalidArgument) std::abort();
    if (!parsed.status().details().contains("errors")) std::abort();
  }
  return 0;
}
