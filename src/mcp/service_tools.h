// ServiceTools: the MCP tools over RunService and RunArtifacts, for `POST /mcp` (http_route.h).
// Each tool validates its arguments (dispatch: the REST validator itself; the others: their
// inputSchema), calls one service method and formats a tool result (tool_result.h).
//
// get_run with waitSeconds does not block: Call returns a GetRunWait, and the transport calls
// Resume until it gives the result (the HTTP route does so from a BodyStream, without holding an
// io thread).
//
// Thread-safe (RunService is).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "core/promoter.h"
#include "core/run_artifacts.h"
#include "core/run_service.h"
#include "mcp/protocol.h"

namespace outpost::mcp {

struct GetRunWait {
  std::string run_id;
  MonoTime deadline;
  bool include_output = false;
  int output_lines = 0;
  RequestContext ctx;
};

class ServiceTools {
 public:
  // `artifacts` may be null (get_artifacts then answers SERVICE_UNAVAILABLE).
  ServiceTools(RunService& runs, RunArtifacts* artifacts, const Clock& clock)
      : runs_(runs), artifacts_(artifacts), clock_(clock) {}

  // Where the `promote` tool goes (null: it answers SERVICE_UNAVAILABLE). Set before serving.
  void SetPromoter(Promoter* promoter) { promoter_ = promoter; }

  struct Outcome {
    boost::json::object result;      // the CallToolResult, unless `wait` is set
    std::optional<GetRunWait> wait;  // get_run still waiting for a terminal status
  };
  // `call` names a known tool (protocol.h checked it).
  Outcome Call(const ToolCall& call, const RequestContext& ctx);

  // The get_run result when the run is terminal, when `final` (the wait is over), or on an
  // error; nullopt: keep waiting.
  std::optional<boost::json::object> Resume(const GetRunWait& wait, bool final);

  // This server's tools/list result: the catalog with dispatch naming its enabled agents and
  // their models (tools.h ToolsListResult).
  boost::json::object ToolsList() const;

 private:
  boost::json::object Dispatch(const boost::json::object& args, const RequestContext& ctx);
  Outcome GetRun(const boost::json::object& args, const RequestContext& ctx);
  boost::json::object ListRuns(const boost::json::object& args, const RequestContext& ctx);
  boost::json::object Cancel(const boost::json::object& args, const RequestContext& ctx);
  boost::json::object Promote(const boost::json::object& args, const RequestContext& ctx);
  boost::json::object Fleet(const RequestContext& ctx);
  boost::json::object Health(const RequestContext& ctx);
  boost::json::object Logs(const boost::json::object& args, const RequestContext& ctx);
  boost::json::object Artifacts(const boost::json::object& args, const RequestContext& ctx);
  boost::json::object Diff(const boost::json::object& args, const RequestContext& ctx);
  // The run (and its output tail) as a get_run result.
  boost::json::object RunResult(const Run& run, const GetRunWait& wait);

  RunService& runs_;
  RunArtifacts* artifacts_;
  const Clock& clock_;
  Promoter* promoter_ = nullptr;
};

}  // namespace outpost::mcp
