#include "runner/ecs/fake_ecs.h"

#include <boost/json.hpp>
#include <chrono>

#include "common/json_util.h"

namespace outpost::ecs {
namespace {

namespace json = boost::json;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr char kPrefix[] = "AmazonEC2ContainerServiceV20141113.";
constexpr char kArnPrefix[] = "arn:aws:ecs:us-east-1:123456789012:task/outpost-test/";

FakeResponse Error(int status, const std::string& type, const std::string& message) {
  return {status,
          ToJson(json::object{{"__type", type}, {"message", message}}),
          {{"Content-Type", "application/x-amz-json-1.1"}}};
}

FakeResponse Ok(const json::object& body) {
  return {200, ToJson(body), {{"Content-Type", "application/x-amz-json-1.1"}}};
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Str(const json::object& o, const char* key) { return GetString(o, key).value_or(""); }

}  // namespace

FakeEcs::FakeEcs(const docker::DockerEngine* engine) : engine_(engine) {
  server_ =
      std::make_unique<testing::FakeHttpServer>([this](const FakeRequest& r) { return Handle(r); });
}

FakeEcs::~FakeEcs() {
  server_.reset();
  for (std::thread& t : stoppers_) t.join();
  if (engine_) {
    for (const auto& t : tasks_) {
      if (!t->container_id.empty()) (void)engine_->RemoveContainer(t->container_id, true);
    }
  }
}

void FakeEcs::Define(const std::string& family, FakeTaskDefinition def) {
  std::lock_guard lock(mu_);
  defs_[family] = std::move(def);
}

void FakeEcs::Throttle(const std::string& op, int times) {
  std::lock_guard lock(mu_);
  throttle_[op] = times;
}

void FakeEcs::Forget(const std::string& arn) {
  std::lock_guard lock(mu_);
  if (Task* t = Find(arn)) t->forgotten = true;
}

void FakeEcs::SetStopped(const std::string& arn, const std::string& stop_code,
                         const std::string& stopped_reason, std::optional<int> exit_code,
                         const std::string& container_reason) {
  std::lock_guard lock(mu_);
  Task* t = Find(arn);
  if (!t) return;
  if (engine_ && !t->container_id.empty()) {
    (void)engine_->KillContainer(t->container_id, "SIGKILL");
  }
  t->last_status = "STOPPED";
  t->desired_status = "STOPPED";
  t->stop_code = stop_code;
  t->stopped_reason = stopped_reason;
  t->exit_code = exit_code;
  t->container_reason = container_reason;
  t->stopped_at = NowSeconds();  // from now on its state is this, not the container's
}

int FakeEcs::Calls(const std::string& op) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

std::map<std::string, int> FakeEcs::AllCalls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<std::string> FakeEcs::Tasks() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& t : tasks_) out.push_back(t->arn);
  return out;
}

json::object FakeEcs::RunTaskBody(const std::string& arn) const {
  std::lock_guard lock(mu_);
  for (const auto& t : tasks_) {
    if (t->arn == arn) return t->request;
  }
  return {};
}

std::string FakeEcs::ContainerOf(const std::string& arn) const {
  std::lock_guard lock(mu_);
  for (const auto& t : tasks_) {
    if (t->arn == arn) return t->container_id;
  }
  return "";
}

FakeEcs::Task* FakeEcs::Find(const std::string& task_or_arn) {
  for (auto& t : tasks_) {
    if (t->arn == task_or_arn || t->arn == kArnPrefix + task_or_arn) return t.get();
  }
  return nullptr;
}

FakeResponse FakeEcs::Handle(const FakeRequest& r) {
  auto target = r.headers.find("x-amz-target");
  auto auth = r.headers.find("authorization");
  if (auth == r.headers.end() || !auth->second.starts_with("AWS4-HMAC-SHA256 Credential=") ||
      auth->second.find("/ecs/aws4_request") == std::string::npos) {
    return Error(400, "MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  auto ct = r.headers.find("content-type");
  if (r.method != "POST" || r.target != "/" || ct == r.headers.end() ||
      ct->second != "application/x-amz-json-1.1" || target == r.headers.end() ||
      !target->second.starts_with(kPrefix)) {
    return Error(400, "UnknownOperationException", "");
  }
  const std::string op = target->second.substr(std::string(kPrefix).size());
  auto doc = ParseJson(r.body);
  if (!doc.ok() || !doc->is_object()) return Error(400, "SerializationException", "");
  std::lock_guard lock(mu_);
  ++calls_[op];
  if (auto th = throttle_.find(op); th != throttle_.end() && th->second > 0) {
    --th->second;
    return Error(400, "ThrottlingException", "Rate exceeded");
  }
  const json::object& body = doc->get_object();
  if (op == "RunTask") return RunTask(body);
  if (op == "DescribeTasks") return DescribeTasks(body);
  if (op == "StopTask") return StopTask(body);
  if (op == "ListTasks") return ListTasks(body);
  return Error(400, "UnknownOperationException", "");
}

FakeResponse FakeEcs::RunTask(const json::object& body) {
  const std::string family = Str(body, "taskDefinition");
  const std::string token = Str(body, "clientToken");
  if (!token.empty()) {
    for (auto& t : tasks_) {
      if (t->client_token == token) {
        Observe(*t);
        return Ok({{"tasks", json::array{TaskJson(*t, false)}}, {"failures", json::array{}}});
      }
    }
  }
  auto def = defs_.find(family);
  if (def == defs_.end()) return Error(400, "ClientException", "TaskDefinition not found.");
  const json::object* vpc = nullptr;
  if (auto nc = body.find("networkConfiguration"); nc != body.end() && nc->value().is_object()) {
    auto a = nc->value().get_object().find("awsvpcConfiguration");
    if (a != nc->value().get_object().end() && a->value().is_object()) {
      vpc = &a->value().get_object();
    }
  }
  if (!vpc) {
    return Error(400, "InvalidParameterException",
                 "Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  auto subnets = vpc->find("subnets");
  if (subnets == vpc->end() || !subnets->value().is_array() ||
      subnets->value().get_array().empty()) {
    return Error(400, "InvalidParameterException", "subnets can not be empty.");
  }
  auto task = std::make_unique<Task>();
  char id[33];
  std::snprintf(id, sizeof id, "%032x", ++next_id_);
  task->arn = kArnPrefix + std::string(id);
  task->family = family;
  task->group = "family:" + family;
  task->started_by = Str(body, "startedBy");
  task->client_token = token;
  task->request = body;
  task->created_at = NowSeconds();
  if (auto tags = body.find("tags"); tags != body.end() && tags->value().is_array()) {
    for (const auto& tag : tags->value().get_array()) {
      task->tags[Str(tag.as_object(), "key")] = Str(tag.as_object(), "value");
    }
  }
  std::vector<std::string> env = def->second.env;
  if (auto ov = body.find("overrides"); ov != body.end() && ov->value().is_object()) {
    auto cos = ov->value().get_object().find("containerOverrides");
    if (cos != ov->value().get_object().end() && cos->value().is_array()) {
      for (const auto& co : cos->value().get_array()) {
        task->container_name = Str(co.as_object(), "name");
        auto e = co.as_object().find("environment");
        if (e == co.as_object().end() || !e->value().is_array()) continue;
        for (const auto& kv : e->value().get_array()) {
          env.push_back(Str(kv.as_object(), "name") + "=" + Str(kv.as_object(), "value"));
        }
      }
    }
  }
  if (engine_) {
    docker::ContainerSpec c;
    c.name = "outpost-ecs-double-" + std::string(id) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
    c.image = def->second.image;
    c.entrypoint = def->second.entrypoint;
    c.cmd = def->second.cmd;
    c.env = env;
    c.user = def->second.user;
    c.labels = {{"outpost.ecs-double", task->arn}};
    c.network_mode = "host";
    // Fargate's container: Docker's default capabilities, a writable root.
    c.read_only_rootfs = false;
    c.no_new_privileges = false;
    c.cap_drop = {};
    c.memory_bytes = def->second.memory_bytes;
    c.init = false;
    auto created = engine_->CreateContainer(c);
    if (!created.ok()) {
      task->start_error = "CannotPullContainerError: " + created.status().message();
    } else {
      task->container_id = *created;
      if (Status st = engine_->StartContainer(*created); !st.ok()) {
        task->start_error = "CannotStartContainerError: " + st.message();
      }
    }
    if (!task->start_error.empty()) {
      task->last_status = "STOPPED";
      task->desired_status = "STOPPED";
      task->stop_code = "TaskFailedToStart";
      task->stopped_reason = task->start_error;
      task->stopped_at = NowSeconds();
    }
  } else {
    task->last_status = simulated_start_status;
    if (task->last_status == "RUNNING") task->started_at = NowSeconds();
  }
  json::object answer{{"tasks", json::array{TaskJson(*task, false)}}, {"failures", json::array{}}};
  tasks_.push_back(std::move(task));
  return Ok(answer);
}

void FakeEcs::Observe(Task& t) {
  if (!engine_ || t.container_id.empty() || t.last_status == "STOPPED") return;
  auto state = engine_->InspectContainer(t.container_id);
  if (!state.ok()) return;
  if (state->running || state->status == "restarting" || state->status == "paused") {
    t.last_status = "RUNNING";
    if (state->started_at && t.started_at == 0) {
      t.started_at = std::chrono::duration<double>(state->started_at->time_since_epoch()).count();
    }
  } else if (state->status == "created") {
    t.last_status = "PENDING";
  } else {
    t.last_status = "STOPPED";
    t.desired_status = "STOPPED";
    t.exit_code = state->exit_code;
    if (t.stop_code.empty()) {
      t.stop_code = "EssentialContainerExited";
      t.stopped_reason = "Essential container in task exited";
    }
    if (state->oom_killed)
      t.container_reason = "OutOfMemoryError: Container killed due to memory usage";
    t.stopped_at = NowSeconds();
  }
}

json::object FakeEcs::TaskJson(const Task& t, bool tags) const {
  json::object container{{"containerArn", t.arn + "/container"},
                         {"taskArn", t.arn},
                         {"name", t.container_name},
                         {"lastStatus", t.last_status}};
  if (t.exit_code) container["exitCode"] = *t.exit_code;
  if (!t.container_reason.empty()) container["reason"] = t.container_reason;
  json::object o{{"taskArn", t.arn},
                 {"clusterArn", "arn:aws:ecs:us-east-1:123456789012:cluster/outpost-test"},
                 {"taskDefinitionArn",
                  "arn:aws:ecs:us-east-1:123456789012:task-definition/" + t.family + ":1"},
                 {"group", t.group},
                 {"launchType", "FARGATE"},
                 {"lastStatus", t.last_status},
                 {"desiredStatus", t.desired_status},
                 {"createdAt", t.created_at},
                 {"containers", json::array{container}}};
  if (!t.started_by.empty()) o["startedBy"] = t.started_by;
  if (t.started_at > 0) o["startedAt"] = t.started_at;
  if (t.stopped_at > 0) o["stoppedAt"] = t.stopped_at;
  if (!t.stop_code.empty()) o["stopCode"] = t.stop_code;
  if (!t.stopped_reason.empty()) o["stoppedReason"] = t.stopped_reason;
  if (tags) {
    json::array a;
    for (const auto& [k, v] : t.tags) a.push_back(json::object{{"key", k}, {"value", v}});
    o["tags"] = std::move(a);
  }
  return o;
}

FakeResponse FakeEcs::DescribeTasks(const json::object& body) {
  auto arns = body.find("tasks");
  if (arns == body.end() || !arns->value().is_array()) {
    return Error(400, "InvalidParameterException", "Tasks cannot be empty.");
  }
  if (arns->value().get_array().size() > 100) {
    return Error(400, "InvalidParameterException", "Too many tasks were specified (max 100).");
  }
  bool tags = false;
  if (auto inc = body.find("include"); inc != body.end() && inc->value().is_array()) {
    for (const auto& v : inc->value().get_array())
      tags |= v.is_string() && v.get_string() == "TAGS";
  }
  json::array tasks, failures;
  for (const auto& v : arns->value().get_array()) {
    const std::string arn = v.is_string() ? std::string(v.get_string()) : "";
    Task* t = Find(arn);
    if (!t || t->forgotten) {
      failures.push_back(json::object{{"arn", arn}, {"reason", "MISSING"}});
      continue;
    }
    Observe(*t);
    tasks.push_back(TaskJson(*t, tags));
  }
  return Ok({{"tasks", std::move(tasks)}, {"failures", std::move(failures)}});
}

FakeResponse FakeEcs::StopTask(const json::object& body) {
  Task* t = Find(Str(body, "task"));
  if (!t) return Error(400, "InvalidParameterException", "The referenced task was not found.");
  Observe(*t);
  if (t->desired_status != "STOPPED") {
    t->desired_status = "STOPPED";
    t->stop_code = "UserInitiated";
    t->stopped_reason = body.contains("reason") ? Str(body, "reason") : "Task stopped by user";
    if (engine_ && !t->container_id.empty()) {
      const std::string id = t->container_id;
      const int grace = stop_timeout_seconds;
      const docker::DockerEngine* engine = engine_;
      stoppers_.emplace_back([engine, id, grace] { (void)engine->StopContainer(id, grace); });
    } else if (!engine_) {
      t->last_status = "STOPPED";
      t->stopped_at = NowSeconds();
    }
  }
  return Ok({{"task", TaskJson(*t, false)}});
}

FakeResponse FakeEcs::ListTasks(const json::object& body) {
  const std::string started_by = Str(body, "startedBy"), family = Str(body, "family");
  const std::string desired =
      body.contains("desiredStatus") ? Str(body, "desiredStatus") : "RUNNING";
  json::array arns;
  for (auto& t : tasks_) {
    if (t->forgotten) continue;
    Observe(*t);
    if (!started_by.empty() && t->started_by != started_by) continue;
    if (!family.empty() && t->family != family) continue;
    if (t->desired_status != desired) continue;
    arns.emplace_back(t->arn);
  }
  return Ok({{"taskArns", std::move(arns)}});
}

}  // namespace outpost::ecs
