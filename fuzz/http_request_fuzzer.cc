// libFuzzer: the server's request pipeline without sockets. The input is the bytes a client
// sends on one connection; they go through what http_server.cc does with them (http/http_parse.h:
// Beast's request parser with the default limits, the header checks, ToRequest) and then
// HandleRequest on a router with the real REST, /files, artifact and dashboard routes over a
// RunService on a SQLite store in a temp dir (no supervisor: runs stay PENDING). Up to 4 pipelined
// requests per input, as a keep-alive connection would carry them; a streamed answer (SSE) is
// pulled once.
//
// Known ids for the corpus and dictionary: run 01HZ0000000000000000000000 exists, with the
// artifact dispatches/01HZ0000000000000000000000/output.log signed by the fixed key below.
#include <unistd.h>

#include <boost/beast/http/error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "agents/agent.h"
#include "api/artifact_routes.h"
#include "api/file_routes.h"
#include "api/routes.h"
#include "artifacts/local/local_artifact_store.h"
#include "config/options.h"
#include "core/run_artifacts.h"
#include "core/run_service.h"
#include "http/http_parse.h"
#include "http/router.h"
#include "store/sqlite/sqlite_run_store.h"
#include "web/web_routes.h"

namespace {

namespace fs = std::filesystem;
using namespace outpost;

constexpr char kRunId[] = "01HZ0000000000000000000000";
// Runs created by fuzzed dispatches before the store is started afresh (keeps it small).
constexpr int kRecreateAfter = 20'000;

// Everything a request can reach, in a fresh temp dir.
struct Env {
  Env() {
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    dir = base / ("outpost-fuzz-" + std::to_string(::getpid()) + "-" + std::to_string(++count));
    fs::remove_all(dir);
    fs::create_directories(dir);
    opts.data_dir = dir.string();
    auto opened = SqliteRunStore::Open((dir / "outpost.db").string());
    if (!opened.ok()) std::abort();
    store = std::move(*opened);
    agents = std::make_unique<AgentRegistry>(opts);
    service = std::make_unique<RunService>(*store, *agents, clock, opts, nullptr);
    auto local = artifacts::LocalArtifactStore::Open((dir / "artifacts").string(), signer,
                                                     [] { return "http://127.0.0.1:8080"; },
                                                     {.durable = false});
    if (!local.ok()) std::abort();
    files = std::move(*local);
    run_artifacts = std::make_unique<RunArtifacts>(*service, *files, clock);
    api::RegisterRoutes(router, *service, clock);
    api::RegisterFileRoutes(router, *files, clock);
    api::RegisterArtifactRoutes(router, *run_artifacts, clock);
    web::RegisterWebRoutes(router, clock);
    SeedRun();
  }
  ~Env() {
    service.reset();
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void SeedRun() {
    Run run;
    run.id = RunId(kRunId);
    run.agent = "shell";
    run.model_id = "shell";
    run.task = "echo hi";
    run.created_at = clock.Now();
    if (!store->Create(run).ok()) std::abort();
    if (!files->Put(std::string("dispatches/") + kRunId + "/output.log", "hi\n", "text/plain")
             .ok()) {
      std::abort();
    }
  }

  static inline int count = 0;
  fs::path dir;
  Options opts = DefaultOptions();
  SimulatedClock clock;
  artifacts::UrlSigner signer{std::string(32, '\x5a')};
  std::unique_ptr<SqliteRunStore> store;
  std::unique_ptr<AgentRegistry> agents;
  std::unique_ptr<RunService> service;
  std::unique_ptr<artifacts::LocalArtifactStore> files;
  std::unique_ptr<RunArtifacts> run_artifacts;
  http::Router router;
  int created = 0;
};

std::unique_ptr<Env>& TheEnv() {
  static std::unique_ptr<Env> env = std::make_unique<Env>();
  return env;
}

// Parses one request from the front of `in` as the server's read loop would (all of `in` is
// available); false when nothing more can be served from this connection.
bool ServeOne(Env& env, std::string_view& in) {
  const http::RequestLimits limits;
  http::RequestParser parser;
  http::ConfigureParser(parser, limits);
  boost::system::error_code ec;
  while (!parser.is_done()) {
    const std::size_t n = parser.put(boost::asio::const_buffer(in.data(), in.size()), ec);
    in.remove_prefix(n);
    if (ec || n == 0) break;
  }
  // Incomplete: the server would wait for more, until its deadline.
  if (ec == boost::beast::http::error::need_more || (!ec && !parser.is_done())) return false;
  if (ec) {
    http::ReadErrorResponse(ec, parser, in, limits, env.clock);
    return false;
  }
  if (auto rejected = http::CheckHeader(parser, limits, env.clock)) return false;
  const bool keep_alive = parser.get().keep_alive();
  http::Request req = http::ToRequest(parser, "127.0.0.1:1", env.clock);
  http::Response res = http::HandleRequest(env.router, req, env.clock);
  if (res.status == 201) ++env.created;
  if (res.stream) {
    res.stream->Start([] {});
    std::string out;
    res.stream->Pull(out, 64 * 1024);
  }
  return keep_alive;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::unique_ptr<Env>& env = TheEnv();
  if (env->created > kRecreateAfter) {
    env.reset();
    env = std::make_unique<Env>();
  }
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < 4 && !in.empty() && ServeOne(*env, in); ++i) {
  }
  return 0;
}
