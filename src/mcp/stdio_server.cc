#include "mcp/stdio_server.h"

#include <boost/json.hpp>
#include <condition_variable>
#include <istream>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "common/json_util.h"

namespace outpost::mcp {
namespace json = boost::json;
namespace {

class Server {
 public:
  Server(std::ostream& out, ToolRunner runner) : out_(out), runner_(std::move(runner)) {}

  void Handle(const std::string& line) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    Parsed parsed = ParseMessage(line);
    if (!parsed.message) return Write(parsed.error_reply);
    const Message& m = *parsed.message;
    if (auto id = CancelledRequestId(m)) return Cancel(*id);
    if (m.kind != Message::Kind::kRequest) return;  // initialized, responses: nothing to do
    std::optional<json::object> list;
    if (m.method == "tools/list" && runner_.tools_list) list = runner_.tools_list();
    Step step = HandleRequest(m, list ? &*list : nullptr);
    if (step.reply) {
      Write(*step.reply);
      if (m.method == "initialize" && runner_.initialized) runner_.initialized();
      return;
    }
    Start(m.id, std::move(*step.call));
  }

  // End of input: the calls in flight are answered, then their threads joined.
  void Finish() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return calls_.empty(); });
    std::vector<std::thread> threads;
    threads.swap(finished_);
    lock.unlock();
    for (auto& t : threads) t.join();
  }

 private:
  struct InFlight {
    json::value id;
    bool cancelled = false;
    std::thread thread;
  };

  void Write(const json::object& message) {
    std::lock_guard lock(out_mu_);
    out_ << ToJson(message) << '\n';
    out_.flush();
  }

  void Start(const json::value& id, ToolCall call) {
    const std::string key = json::serialize(id);
    std::lock_guard lock(mu_);
    if (calls_.count(key)) {
      Write(ErrorReply(id, kInvalidRequest, "Invalid Request: id " + key + " is already in use"));
      return;
    }
    for (auto& t : finished_) t.join();
    finished_.clear();
    InFlight& f = calls_[key];
    f.id = id;
    f.thread = std::thread([this, id, key, call = std::move(call)] {
      json::object reply = runner_.call(id, call);
      std::lock_guard lock(mu_);
      auto it = calls_.find(key);
      if (it == calls_.end()) return;
      if (!it->second.cancelled) Write(reply);
      finished_.push_back(std::move(it->second.thread));
      calls_.erase(it);
      idle_.notify_all();
    });
  }

  void Cancel(const json::value& id) {
    {
      std::lock_guard lock(mu_);
      auto it = calls_.find(json::serialize(id));
      if (it == calls_.end() || it->second.cancelled) return;
      it->second.cancelled = true;
    }
    if (runner_.cancel) runner_.cancel(id);
  }

  std::ostream& out_;
  ToolRunner runner_;
  std::mutex out_mu_;
  std::mutex mu_;
  std::condition_variable idle_;           // calls_ became smaller
  std::map<std::string, InFlight> calls_;  // guarded by mu_, by serialized id
  std::vector<std::thread> finished_;      // guarded by mu_: ended, to be joined
};

}  // namespace

int RunStdioServer(std::istream& in, std::ostream& out, ToolRunner runner) {
  Server server(out, std::move(runner));
  std::string line;
  while (std::getline(in, line)) server.Handle(line);
  server.Finish();
  return 0;
}

}  // namespace outpost::mcp
