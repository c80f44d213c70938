#include "tests/integration/balancer_client.h"

#include <boost/json.hpp>
#include <thread>

#include "tests/integration/balancer_fixture.h"
#include "tests/integration/server_fixture.h"

namespace outpost::testing {
namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ShellBody(const std::string& task, int timeout) {
  return json::serialize(
      json::object{{"agent", "shell"}, {"task", task}, {"timeoutSeconds", timeout}});
}

std::string NumberedLines(int n, const std::string& pause) {
  return "for i in $(seq 1 " + std::to_string(n) + "); do echo line-$i; sleep " + pause + "; done";
}

std::string ExpectedLines(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) out += "line-" + std::to_string(i) + "\n";
  return out;
}

Dispatched DispatchVia(const std::string& address, const std::string& body) {
  HttpResponse r = Http(address, "POST", "/dispatch", body, {{"Content-Type", "application/json"}});
  json::value v = r.Json();
  if (r.status != 201 || !v.is_object()) return {"", "", std::to_string(r.status) + " " + r.body};
  return {std::string(v.at("data").at("runId").as_string()), Balancer::BackendOf(r), ""};
}

json::object RunVia(const std::string& address, const std::string& id) {
  json::value v = Http(address, "GET", "/runs/" + id).Json();
  if (!v.is_object() || !v.as_object().contains("data")) return {};
  return v.at("data").as_object();
}

json::object WaitTerminalVia(const std::string& address, const std::string& id,
                             milliseconds timeout) {
  json::object run;
  WaitFor(
      [&] {
        run = RunVia(address, id);
        const std::string s = Str(run, "status");
        return !s.empty() && s != "PENDING" && s != "RUNNING";
      },
      timeout);
  return run;
}

std::string Followed::Stdout() const {
  std::string out;
  for (const auto& m : events) {
    if (m.event != "output") continue;
    json::object o = json::parse(m.data).as_object();
    if (Str(o, "stream") == "stdout") out += Str(o, "data");
  }
  return out;
}

std::string Followed::Problem() const {
  if (events.empty()) return "no event";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].id != static_cast<std::int64_t>(i) + 1) {
      return "event " + std::to_string(i) + " has id " + std::to_string(events[i].id) +
             " (expected " + std::to_string(i + 1) + ")";
    }
  }
  if (!ended || events.back().event != "end") {
    return "no `end` last (" + std::to_string(events.size()) + " events, the last `" +
           events.back().event + "`)";
  }
  return "";
}

Followed Follow(const std::string& address, const std::string& id, int reconnect_every,
                milliseconds timeout, const std::function<void(const Followed&)>& on_event) {
  Followed f;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!f.ended && std::chrono::steady_clock::now() < deadline) {
    const std::int64_t last = f.events.empty() ? 0 : f.events.back().id;
    SseClient c(address, "/runs/" + id + "/events", last);
    const int status = c.ReadHeader();
    if (status != 200) {
      f.failures.push_back(std::to_string(status) + " " + Balancer::BackendOf(c.header()));
      if (f.failures.size() >= 50) break;
      std::this_thread::sleep_for(milliseconds(100));  // a client's retry pause
      continue;
    }
    f.backends.push_back(Balancer::BackendOf(c.header()));
    int on_this = 0;
    const std::size_t before = f.events.size();
    c.Read(
        [&](const SseMessage& m) {
          f.events.push_back(m);
          if (on_event) on_event(f);
          if (m.event == "end") {
            f.ended = true;
            return false;
          }
          return ++on_this < reconnect_every;
        },
        seconds(30));
    if (!f.ended && f.events.size() == before) {  // closed (or silent 30 s) with nothing new
      f.failures.push_back("200 without an event " + f.backends.back());
      if (f.failures.size() >= 50) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
  return f;
}

FetchedLog OutputLogVia(const std::string& address, const std::string& id) {
  std::string status;
  WaitFor(
      [&] {
        status = Str(RunVia(address, id), "artifactsStatus");
        return status == "stored" || status == "partial";
      },
      seconds(60));
  HttpResponse r = Http(address, "GET", "/runs/" + id + "/artifacts?expiresIn=300");
  json::value v = r.Json();
  if (r.status != 200 || !v.is_object()) {
    return {"", "GET /runs/" + id + "/artifacts: " + std::to_string(r.status) + " " + r.body};
  }
  for (const auto& a : v.at("data").at("artifacts").as_array()) {
    if (Str(a.as_object(), "name") != "output.log") continue;
    const std::string url = Str(a.as_object(), "url");  // http://host:port/path?query
    const std::string rest = url.substr(url.find("://") + 3);
    const std::size_t slash = rest.find('/');
    HttpResponse got = Http(rest.substr(0, slash), "GET", rest.substr(slash));
    if (got.status != 200) return {"", url + ": " + std::to_string(got.status) + " " + got.body};
    return {got.body, ""};
  }
  return {"", "no output.log (artifactsStatus " + status + ") among " + json::serialize(v)};
}

}  // namespace outpost::testing
