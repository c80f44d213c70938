// The event stream of a run end to end, through a real `outpost serve` and real shims: SSE
// replay and resume, a server killed (-9) mid-stream, 100 followers of a busy run and a follower
// that never reads, log pages, the output cap, and `outpost logs -f` across a server restart.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/sqlite/sqlite_event_log.h"
#include "tests/integration/server_test.h"
#include "tests/integration/sse_client.h"

namespace outpost::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ShellBody(const std::string& task, int timeout = 120) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}});
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0, nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    out.push_back(text.substr(pos, nl - pos));
  }
  return out;
}

// Reads the whole stream; the messages in order.
std::vector<SseMessage> ReadStream(SseClient& c, bool* closed = nullptr) {
  std::vector<SseMessage> got;
  bool end = c.Read([&](const SseMessage& m) {
    got.push_back(m);
    return true;
  });
  if (closed) *closed = end;
  return got;
}

// The output of one stream, concatenated from output events.
std::string OutputOf(const std::vector<std::string>& event_lines, std::string_view stream) {
  std::string out;
  for (const auto& l : event_lines) {
    json::object o = json::parse(l).as_object();
    if (o.at("type").as_string() == "output" && o.at("stream").as_string() == stream) {
      out += o.at("data").as_string();
    }
  }
  return out;
}

std::int64_t Millis(const json::object& run, std::string_view a, std::string_view b) {
  auto ms = [&](std::string_view key) {
    std::string t(run.at(key).as_string());  // 2026-01-01T00:00:00.123Z
    std::tm tm{};
    strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + std::atoi(t.c_str() + 20);
  };
  return ms(b) - ms(a);
}

class EventsTest : public ServerTest {
 protected:
  void StartServer(std::map<std::string, std::string> env = {},
                   std::vector<std::string> args = {}) {
    env.emplace("OUTPOST_CANCEL_GRACE_SECONDS", "1");
    server_ = ServerProcess::Start(dir_, env, args);
  }
  std::string RunFile(const std::string& id, const std::string& name) {
    return dir_ + "/runs/" + id + "/" + name;
  }
  // The run's events as the shared event log holds them (the store's SQLite file): the shim's
  // journal copied by the pump with its seqs, then the terminal status and end. Each time it is
  // asked, also checks that the journal is exactly the log's start.
  std::vector<std::string> StoredEvents(const std::string& id) {
    std::vector<std::string> out;
    auto log = SqliteEventLog::Open(dir_ + "/outpost.db");
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return out;
    for (std::int64_t after = 0;;) {
      auto batch = (*log)->Read(id, after, 10000, 64 << 20);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok() || batch->events.empty()) break;
      for (const RunEvent& e : batch->events) out.push_back(e.json);
      after = batch->events.back().seq;
    }
    const std::vector<std::string> journal = Lines(ReadAll(RunFile(id, "events.jsonl")));
    EXPECT_LE(journal.size(), out.size());
    EXPECT_TRUE(std::equal(journal.begin(), journal.end(), out.begin()))
        << "the journal is not the log's start";
    return out;
  }
  std::string EventsPath(const std::string& id, const std::string& query = "") {
    return "/runs/" + id + "/events" + query;
  }
};

// Every stored event, in order, once; then the stream closes after `end`.
void ExpectSameEvents(const std::vector<SseMessage>& got, const std::vector<std::string>& stored,
                      std::int64_t first = 1) {
  std::string dbg;
  for (const auto& m : got) dbg += std::to_string(m.id) + ":" + m.event + " ";
  ASSERT_EQ(got.size(), stored.size() - static_cast<std::size_t>(first - 1)) << dbg;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::string& line = stored[static_cast<std::size_t>(first - 1) + i];
    EXPECT_EQ(got[i].id, first + static_cast<std::int64_t>(i));
    EXPECT_EQ(got[i].data, line);
    EXPECT_EQ(got[i].event, json::parse(line).at("type").as_string());
  }
}

TEST_F(EventsTest, StreamReplaysThenFollowsAndResumesFromLastEventIdOrAfter) {
  StartServer();
  std::string id = server_->Dispatch(
      ShellBody("for i in $(seq 1 30); do echo out-$i; echo err-$i >&2; sleep 0.02; done"));
  ASSERT_FALSE(id.empty());
  SseClient live(server_->address(), EventsPath(id));
  ASSERT_EQ(live.ReadHeader(), 200);
  EXPECT_NE(live.header().find("Content-Type: text/event-stream"), std::string::npos);
  bool closed = false;
  std::vector<SseMessage> got = ReadStream(live, &closed);
  EXPECT_TRUE(closed);  // the server ends the stream after `end`
  std::vector<std::string> stored = StoredEvents(id);
  ExpectSameEvents(got, stored);
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got.front().event, "status");  // RUNNING, written by the shim
  json::value status = json::parse(got[got.size() - 2].data);
  EXPECT_EQ(status.at("status"), "COMPLETED");
  EXPECT_EQ(status.at("reason"), "succeeded");
  EXPECT_EQ(got.back().event, "end");
  std::string out, err;
  for (int i = 1; i <= 30; ++i) {
    out += "out-" + std::to_string(i) + "\n";
    err += "err-" + std::to_string(i) + "\n";
  }
  EXPECT_EQ(OutputOf(stored, "stdout"), out);
  EXPECT_EQ(OutputOf(stored, "stderr"), err);
  EXPECT_EQ(ReadAll(RunFile(id, "stdout.log")), out);

  const auto n = static_cast<std::int64_t>(stored.size());
  SseClient after(server_->address(), EventsPath(id, "?after=5"));
  ExpectSameEvents(ReadStream(after), stored, 6);
  // Last-Event-ID wins over ?after= (a reconnecting EventSource keeps its first URL).
  SseClient resumed(server_->address(), EventsPath(id, "?after=2"), n - 1);
  ExpectSameEvents(ReadStream(resumed), stored, n);
  SseClient past_end(server_->address(), EventsPath(id), n);
  bool past_closed = false;
  EXPECT_TRUE(ReadStream(past_end, &past_closed).empty());
  EXPECT_TRUE(past_closed);

  HttpResponse bad = server_->Get(EventsPath(id, "?after=-1"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json().at("error").at("details").at("errors").at(0).at("path"), "after");
  HttpResponse missing = server_->Get(EventsPath("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_EQ(missing.status, 404);
}

TEST_F(EventsTest, QuietStreamGetsHeartbeatsAndACancelledPendingRunItsEnd) {
  StartServer({{"OUTPOST_EVENTS_HEARTBEAT_MS", "100"}, {"OUTPOST_MAX_CONCURRENT_RUNS", "1"}});
  std::string blocker = server_->Dispatch(ShellBody("sleep 1.2; echo done"));
  std::string queued = server_->Dispatch(ShellBody("echo never"));
  SseClient quiet(server_->address(), EventsPath(blocker));
  SseClient pending(server_->address(), EventsPath(queued));
  ASSERT_EQ(pending.ReadHeader(), 200);
  ASSERT_EQ(server_->Post("/runs/" + queued + "/cancel", "{}").status, 200);
  std::vector<SseMessage> never = ReadStream(pending);
  ASSERT_EQ(never.size(), 2u);  // it never had a shim: status and end from the store
  EXPECT_EQ(never[0].id, 1);
  EXPECT_EQ(json::parse(never[0].data).at("status"), "CANCELLED");
  EXPECT_EQ(never[1].event, "end");
  EXPECT_EQ(never[1].id, 2);
  SseClient again(server_->address(), EventsPath(queued), 1);  // the same story when resumed
  std::vector<SseMessage> rest = ReadStream(again);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].data, never[1].data);

  std::vector<SseMessage> got = ReadStream(quiet);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().event, "end");
  EXPECT_GE(quiet.comments(), 5);  // ~1.2 s without output at one per 100 ms
}

// The server dies (-9) while a client is mid-stream; the run goes on under its shim. The client
// reconnects to the restarted server with Last-Event-ID: together it has every stored event
// exactly once, with no gap.
TEST_F(EventsTest, KillNineOfTheServerMidStreamLosesAndRepeatsNothing) {
  StartServer();
  std::string id =
      server_->Dispatch(ShellBody("for i in $(seq 1 60); do echo line-$i; sleep 0.05; done"));
  std::vector<SseMessage> got;
  {
    SseClient first(server_->address(), EventsPath(id));
    first.Read([&](const SseMessage& m) {
      got.push_back(m);
      return got.size() < 12;
    });
    ASSERT_EQ(got.size(), 12u);
    server_->Signal(SIGKILL);
    ASSERT_EQ(server_->Wait(), 128 + SIGKILL);
    bool closed = false;
    for (const SseMessage& m : ReadStream(first, &closed)) got.push_back(m);  // in flight
    EXPECT_TRUE(closed);
  }
  EXPECT_NE(got.back().event, "end");  // the run was still going
  StartServer();
  SseClient second(server_->address(), EventsPath(id), got.back().id);
  for (const SseMessage& m : ReadStream(second)) got.push_back(m);
  std::vector<std::string> stored = StoredEvents(id);
  ExpectSameEvents(got, stored);
  EXPECT_EQ(got.back().event, "end");
  std::string expected;
  for (int i = 1; i <= 60; ++i) expected += "line-" + std::to_string(i) + "\n";
  EXPECT_EQ(OutputOf(stored, "stdout"), expected);
  EXPECT_EQ(Str(server_->Run(id), "status"), "COMPLETED");
}

// What every follower of the busy run saw, reduced to what can be compared.
struct Seen {
  std::int64_t events = 0;
  std::int64_t bad_order = 0;
  std::string stdout_text;
  bool ended = false;
};

TEST_F(EventsTest, HundredFollowersOfABusyRunAllReceiveTheCompleteStream) {
  StartServer();
  // Output starts once the followers are connected; all of them follow it live.
  std::string id = server_->Dispatch(ShellBody("sleep 1.5; seq 1 200000"));
  constexpr int kFollowers = 100;
  std::vector<Seen> seen(kFollowers);
  std::vector<std::thread> threads;
  std::atomic<int> connected{0};
  for (int i = 0; i < kFollowers; ++i) {
    threads.emplace_back([&, i] {
      SseClient c(server_->address(), EventsPath(id));
      if (c.ReadHeader() == 200) ++connected;
      Seen& s = seen[static_cast<std::size_t>(i)];
      c.Read(
          [&](const SseMessage& m) {
            s.bad_order += m.id != s.events + 1;
            ++s.events;
            json::object o = json::parse(m.data).as_object();
            if (m.event == "output" && o.at("stream").as_string() == "stdout") {
              s.stdout_text += o.at("data").as_string();
            }
            s.ended = m.event == "end";
            return true;
          },
          seconds(60));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(connected.load(), kFollowers);
  std::vector<std::string> stored = StoredEvents(id);
  const std::string log = ReadAll(RunFile(id, "stdout.log"));
  EXPECT_EQ(log.size(), 1288895u);  // `seq 1 200000 | wc -c`
  for (int i = 0; i < kFollowers; ++i) {
    const Seen& s = seen[static_cast<std::size_t>(i)];
    EXPECT_TRUE(s.ended) << i;
    EXPECT_EQ(s.events, static_cast<std::int64_t>(stored.size())) << i;
    EXPECT_EQ(s.bad_order, 0) << i;
    EXPECT_TRUE(s.stdout_text == log) << i << ": " << s.stdout_text.size() << " bytes";
  }
}

// A follower that never reads holds only its own connection: the run is not slowed and other
// clients are served meanwhile.
TEST_F(EventsTest, AStalledFollowerDoesNotSlowTheRun) {
  StartServer();
  const std::string task = "sleep 0.5; seq 1 3000000";  // 22.9 MB: far beyond socket buffers
  std::string baseline = server_->Dispatch(ShellBody(task));
  json::object base = server_->WaitTerminal(baseline, seconds(120));
  ASSERT_EQ(Str(base, "status"), "COMPLETED");

  std::string id = server_->Dispatch(ShellBody(task));
  SseClient stalled(server_->address(), EventsPath(id), 0, /*rcvbuf=*/4096);
  ASSERT_TRUE(stalled.connected());
  json::object run = server_->WaitTerminal(id, seconds(120));
  ASSERT_EQ(Str(run, "status"), "COMPLETED");
  EXPECT_EQ(std::filesystem::file_size(RunFile(id, "stdout.log")), 22888896u);
  EXPECT_FALSE(stalled.ServerClosed());  // still stuck early in its stream
  const std::int64_t with_stalled = Millis(run, "startedAt", "endedAt");
  const std::int64_t without = Millis(base, "startedAt", "endedAt");
  EXPECT_LT(with_stalled, 3 * without + 2000) << with_stalled << " ms vs " << without << " ms";
  // Another client is served the whole stream while the stalled one still waits.
  SseClient other(server_->address(), EventsPath(id, "?after=0"));
  std::vector<SseMessage> all = ReadStream(other);
  EXPECT_EQ(all.size(), StoredEvents(id).size());
  EXPECT_FALSE(stalled.ServerClosed());
}

TEST_F(EventsTest, LogsArePagedAndTheQueryIsValidated) {
  StartServer();
  std::string id = server_->Dispatch(ShellBody("for i in $(seq 0 249); do echo line-$i; done"));
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  json::object first = server_->Get("/runs/" + id + "/logs").Json().at("data").as_object();
  ASSERT_EQ(first.at("entries").as_array().size(), 100u);  // the default limit
  EXPECT_EQ(first.at("nextOffset").as_int64(), 100);
  EXPECT_EQ(first.at("hasMore"), true);
  json::object e0 = first.at("entries").at(0).as_object();
  EXPECT_EQ(e0.at("offset").as_int64(), 0);
  EXPECT_EQ(e0.at("message"), "line-0");
  EXPECT_EQ(e0.at("stream"), "stdout");
  EXPECT_EQ(e0.at("timestamp").as_string().size(), 24u);
  json::object last =
      server_->Get("/runs/" + id + "/logs?offset=200&limit=1000").Json().at("data").as_object();
  ASSERT_EQ(last.at("entries").as_array().size(), 50u);
  EXPECT_EQ(last.at("entries").at(0).at("message"), "line-200");
  EXPECT_EQ(last.at("entries").at(49).at("offset").as_int64(), 249);
  EXPECT_EQ(last.at("nextOffset").as_int64(), 250);
  EXPECT_EQ(last.at("hasMore"), false);

  auto paths = [&](const std::string& query) {
    HttpResponse r = server_->Get("/runs/" + id + "/logs" + query);
    EXPECT_EQ(r.status, 400) << query;
    std::vector<std::string> p;
    json::value v = r.Json();
    EXPECT_EQ(v.at("error").at("code"), "VALIDATION_ERROR");
    for (const auto& e : v.at("error").at("details").at("errors").as_array()) {
      p.emplace_back(e.at("path").as_string());
    }
    return p;
  };
  EXPECT_EQ(paths("?limit=0"), std::vector<std::string>{"limit"});
  EXPECT_EQ(paths("?limit=1001"), std::vector<std::string>{"limit"});
  EXPECT_EQ(paths("?limit=ten&offset=-3"), (std::vector<std::string>{"offset", "limit"}));
  EXPECT_EQ(server_->Get("/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/logs").status, 404);

  // The original's alias: logs[] with logOffset to go on from; skipLogs=false means false.
  json::object d = server_->Get("/dispatch/" + id + "?logLimit=2&logOffset=10&skipLogs=false")
                       .Json()
                       .at("data")
                       .as_object();
  ASSERT_EQ(d.at("logs").as_array().size(), 2u);
  EXPECT_EQ(d.at("logs").at(0).at("message"), "line-10");
  EXPECT_EQ(d.at("logs").at(0).at("level"), "info");
  EXPECT_EQ(d.at("logOffset"), "12");
  json::object skipped =
      server_->Get("/dispatch/" + id + "?skipLogs=true").Json().at("data").as_object();
  EXPECT_FALSE(skipped.contains("logs"));
}

// Cap 64 KiB: a head of 48 KiB, then the last 16 KiB (all stdout's: stderr is empty).
TEST_F(EventsTest, OutputOverTheCapKeepsHeadAndTailWithExactDroppedCounts) {
  StartServer({{"OUTPOST_MAX_OUTPUT_BYTES", "65536"}});
  std::string id =
      server_->Dispatch(ShellBody("head -c 200000 /dev/zero | tr '\\0' a; echo; echo RESULT-LINE"));
  ASSERT_EQ(Str(server_->WaitTerminal(id), "status"), "COMPLETED");
  const std::int64_t total = 200000 + 1 + 12;
  const std::int64_t kept = 49152 + 16384;
  const std::string log = ReadAll(RunFile(id, "stdout.log"));
  EXPECT_EQ(static_cast<std::int64_t>(log.size()), kept);
  EXPECT_TRUE(log.ends_with("a\nRESULT-LINE\n"));  // the tail, where results are
  std::vector<std::string> stored = StoredEvents(id);
  EXPECT_EQ(OutputOf(stored, "stdout"), log);
  std::vector<json::object> truncated;
  for (const auto& l : stored) {
    json::object o = json::parse(l).as_object();
    if (o.at("type") == "truncated") truncated.push_back(o);
  }
  ASSERT_EQ(truncated.size(), 2u);
  EXPECT_EQ(truncated[0].at("limit").as_int64(), 65536);
  EXPECT_EQ(truncated[1].at("stream"), "stdout");
  EXPECT_EQ(truncated[1].at("droppedBytes").as_int64(), total - kept);
  EXPECT_EQ(truncated[1].at("tailBytes").as_int64(), 16384);
  json::object exit = json::parse(ReadAll(RunFile(id, "exit.json"))).as_object();
  EXPECT_EQ(exit.at("stdout_bytes").as_int64(), total);
  EXPECT_EQ(exit.at("stdout_dropped_bytes").as_int64(), total - kept);
  EXPECT_FALSE(std::filesystem::exists(RunFile(id, "stdout.tail")));
  // The log pages say where the output was cut.
  json::object page = server_->Get("/runs/" + id + "/logs?limit=10").Json().at("data").as_object();
  bool noted = false;
  for (const auto& e : page.at("entries").as_array()) {
    noted |= e.at("stream") == "outpost" &&
             e.at("message").as_string().find(std::to_string(total - kept) + " bytes") !=
                 std::string::npos;
  }
  EXPECT_TRUE(noted) << json::serialize(page);
}

// With a parser configured, the agent's stdout lines become agent events, and the run's
// progress follows its turns (and the time it has used) before it ends at 100.
TEST_F(EventsTest, AgentEventsAreStreamedAndDriveProgress) {
  std::string cfg = dir_ + "/outpost.toml";
  std::ofstream(cfg) << "[agents.shell]\nparser = \"claude-stream-json\"\n";
  StartServer({{"OUTPOST_CONFIG", cfg}});
  std::string task =
      "for i in 1 2 3 4; do echo '{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":"
      "\"text\",\"text\":\"step '$i'\"}]}}'; done; sleep 4";
  std::string id = server_->Dispatch(ShellBody(task, 100));
  // 4 turns: 5 + 90 * (1 - 0.85^4) = 48, against 5-9 from the time alone.
  ASSERT_TRUE(
      WaitFor([&] { return server_->Run(id).at("progress").as_int64() >= 45; }, seconds(15)));
  EXPECT_EQ(Str(server_->Run(id), "status"), "RUNNING");
  json::object done = server_->WaitTerminal(id);
  EXPECT_EQ(done.at("progress").as_int64(), 100);
  std::vector<std::string> messages;
  for (const auto& l : StoredEvents(id)) {
    json::object o = json::parse(l).as_object();
    if (o.at("type") != "agent_message") continue;
    messages.emplace_back(o.at("text").as_string());
    EXPECT_EQ(o.at("turn").as_int64(), static_cast<std::int64_t>(messages.size()));
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"step 1", "step 2", "step 3", "step 4"}));
}

// `outpost logs ID -f` while the server is killed and restarted on the same port: the CLI
// prints every line of the run exactly once and exits with the run's status.
TEST_F(EventsTest, CliLogsFollowResumesAcrossAServerRestart) {
  StartServer();
  const std::string port = server_->address().substr(server_->address().rfind(':') + 1);
  std::string id = server_->Dispatch(
      ShellBody("for i in $(seq 1 40); do echo line-$i; sleep 0.1; done; echo err >&2"));
  const std::string out_path = dir_ + "/cli.out";
  pid_t cli = fork();
  if (cli == 0) {
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int null = ::open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(null, 2);
    std::string bin = OutpostBin(), endpoint = "http://127.0.0.1:" + port;
    execl(bin.c_str(), bin.c_str(), "logs", id.c_str(), "-f", "--endpoint", endpoint.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadAll(out_path)).size() >= 8; }, seconds(30)));
  server_->Signal(SIGKILL);
  server_->Wait();
  StartServer({}, {"--listen", "127.0.0.1:" + port});
  int status = 0;
  ASSERT_TRUE(WaitFor([&] { return waitpid(cli, &status, WNOHANG) == cli; }, seconds(60)));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::string expected;
  for (int i = 1; i <= 40; ++i) expected += "line-" + std::to_string(i) + "\n";
  EXPECT_EQ(ReadAll(out_path), expected);
}

// `outpost dispatch … --follow`: the agent's stdout on stdout, its stderr on stderr, the exit code
// by the run's status.
TEST_F(EventsTest, CliDispatchFollowStreamsTheRunAndExitsWithItsStatus) {
  StartServer();
  const std::string out_path = dir_ + "/out", err_path = dir_ + "/err";
  pid_t cli = fork();
  if (cli == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    std::string bin = OutpostBin(), endpoint = "http://" + server_->address();
    execl(bin.c_str(), bin.c_str(), "dispatch", "--agent", "shell", "--task",
          "echo to-out; echo to-err >&2; exit 3", "--follow", "--endpoint", endpoint.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  ASSERT_TRUE(WaitFor([&] { return waitpid(cli, &status, WNOHANG) == cli; }, seconds(60)));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;  // FAILED
  EXPECT_EQ(ReadAll(out_path), "to-out\n");
  const std::string err = ReadAll(err_path);
  EXPECT_NE(err.find("to-err\n"), std::string::npos) << err;
  EXPECT_NE(err.find(" FAILED\n"), std::string::npos) << err;
}

}  // namespace
}  // namespace outpost::testing
