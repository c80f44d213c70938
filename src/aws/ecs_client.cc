// Every exchange goes through Call(): sign with the clock's current time (a retry re-signs),
// send, and map a non-2xx answer through MapEcsError inside the retry loop, so that throttling
// and 5xx are retried and nothing else is. RunTask's capacity failures are retried around Call
// with the same Retrier (and the same clientToken: ECS answers a repeated token with the task
// it started, never a second one).
#include "aws/ecs_client.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "aws/http.h"
#include "common/json_util.h"

namespace outpost::aws {
namespace json = boost::json;

namespace {

Code CodeFor(int http_status, std::string_view type) {
  static const std::map<std::string, Code, std::less<>> kCodes = {
      {"ServerException", Code::kUnavailable},
      {"ClusterNotFoundException", Code::kNotFound},
      {"ServiceNotFoundException", Code::kNotFound},
      {"AccessDeniedException", Code::kPermissionDenied},
      {"UnrecognizedClientException", Code::kPermissionDenied},
      {"InvalidSignatureException", Code::kPermissionDenied},
      {"IncompleteSignature", Code::kPermissionDenied},
      {"IncompleteSignatureException", Code::kPermissionDenied},
      {"MissingAuthenticationTokenException", Code::kPermissionDenied},
      {"ExpiredTokenException", Code::kPermissionDenied},
      {"ConflictException", Code::kConflict},
      {"ClientException", Code::kInvalidArgument},
      {"InvalidParameterException", Code::kInvalidArgument},
      {"PlatformUnknownException", Code::kInvalidArgument},
      {"PlatformTaskDefinitionIncompatibilityException", Code::kInvalidArgument},
      {"UnsupportedFeatureException", Code::kInvalidArgument},
      {"BlockedException", Code::kInvalidArgument},
      {"SerializationException", Code::kInternal},  // we sent something malformed
  };
  if (IsThrottlingCode(type) || IsRetryableHttpStatus(http_status)) return Code::kUnavailable;
  if (auto it = kCodes.find(type); it != kCodes.end()) return it->second;
  return http_status >= 400 && http_status < 500 ? Code::kInvalidArgument : Code::kInternal;
}

bool ValidRegion(const std::string& r) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// Epoch seconds (a JSON number, fractional) as ECS's JSON 1.1 timestamps are.
Result<std::optional<WallTime>> Timestamp(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<WallTime>();
  double seconds;
  if (it->value().is_double()) {
    seconds = it->value().get_double();
  } else if (it->value().is_int64()) {
    seconds = static_cast<double>(it->value().get_int64());
  } else if (it->value().is_uint64()) {
    seconds = static_cast<double>(it->value().get_uint64());
  } else {
    return Internal("ECS: task." + std::string(key) + " is not a number");
  }
  const auto ms = static_cast<std::int64_t>(std::llround(seconds * 1000.0));
  return std::optional<WallTime>(WallTime(std::chrono::milliseconds(ms)));
}

Result<std::string> Str(const json::object& o, std::string_view key, std::string_view where) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string()) {
    return Internal("ECS: " + std::string(where) + "." + std::string(key) + " is not a string");
  }
  return std::string(it->value().get_string());
}

}  // namespace

bool IsEcsCapacityFailure(std::string_view reason) {
  // API failure reasons (ECS developer guide, "API failure reasons"): RESOURCE:* — not enough
  // CPU, memory, ports, ENIs or GPUs; Fargate: "Capacity is unavailable at this time. Please try
  // again later or in a different availability zone".
  return reason.starts_with("RESOURCE:") || reason.find("Capacity is unavailable") != reason.npos;
}

Status MapEcsError(std::string_view what, const net::HttpResponse& r) {
  std::string type, message;
  if (auto doc = ParseJson(r.body); doc.ok() && doc->is_object()) {
    const json::object& o = doc->get_object();
    type = GetString(o, "__type").value_or("");
    message = GetString(o, "message").value_or(GetString(o, "Message").value_or(""));
  }
  if (type.empty()) {
    for (const auto& [name, value] : r.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "x-amzn-errortype") type = value.substr(0, value.find(':'));
    }
  }
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  std::string text = std::string(what) + ": ";
  text += type.empty() ? "HTTP " + std::to_string(r.status) : type;
  if (!message.empty()) text += ": " + message;
  return Status(CodeFor(r.status, type), text);
}

Result<EcsTask> ParseEcsTask(const json::object& o) {
  EcsTask t;
  struct Field {
    const char* key;
    std::string EcsTask::*member;
  };
  static constexpr Field kFields[] = {
      {"taskArn", &EcsTask::task_arn},
      {"clusterArn", &EcsTask::cluster_arn},
      {"taskDefinitionArn", &EcsTask::task_definition_arn},
      {"lastStatus", &EcsTask::last_status},
      {"desiredStatus", &EcsTask::desired_status},
      {"startedBy", &EcsTask::started_by},
      {"group", &EcsTask::group},
      {"launchType", &EcsTask::launch_type},
      {"stopCode", &EcsTask::stop_code},
      {"stoppedReason", &EcsTask::stopped_reason},
  };
  for (const Field& f : kFields) {
    auto v = Str(o, f.key, "task");
    if (!v.ok()) return v.status();
    t.*(f.member) = std::move(*v);
  }
  struct TimeField {
    const char* key;
    std::optional<WallTime> EcsTask::*member;
  };
  static constexpr TimeField kTimes[] = {{"createdAt", &EcsTask::created_at},
                                         {"startedAt", &EcsTask::started_at},
                                         {"stoppingAt", &EcsTask::stopping_at},
                                         {"stoppedAt", &EcsTask::stopped_at}};
  for (const TimeField& f : kTimes) {
    auto v = Timestamp(o, f.key);
    if (!v.ok()) return v.status();
    t.*(f.member) = *v;
  }
  if (auto it = o.find("containers"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Internal("ECS: task.containers is not a list");
    for (const auto& cv : it->value().get_array()) {
      if (!cv.is_object()) return Internal("ECS: a task.containers entry is not an object");
      const json::object& c = cv.get_object();
      EcsContainer ec;
      auto name = Str(c, "name", "container");
      auto status = Str(c, "lastStatus", "container");
      auto reason = Str(c, "reason", "container");
      if (!name.ok()) return name.status();
      if (!status.ok()) return status.status();
      if (!reason.ok()) return reason.status();
      ec.name = *name;
      ec.last_status = *status;
      ec.reason = *reason;
      if (auto e = c.find("exitCode"); e != c.end() && !e->value().is_null()) {
        if (!e->value().is_int64()) return Internal("ECS: container.exitCode is not an integer");
        ec.exit_code = static_cast<int>(e->value().get_int64());
      }
      t.containers.push_back(std::move(ec));
    }
  }
  if (auto it = o.find("tags"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Internal("ECS: task.tags is not a list");
    for (const auto& tv : it->value().get_array()) {
      if (!tv.is_object()) return Internal("ECS: a task.tags entry is not an object");
      auto k = Str(tv.get_object(), "key", "tag");
      auto v = Str(tv.get_object(), "value", "tag");
      if (!k.ok()) return k.status();
      if (!v.ok()) return v.status();
      t.tags[*k] = *v;
    }
  }
  return t;
}

Result<EcsTaskList> ParseEcsTaskList(const json::object& answer) {
  EcsTaskList out;
  if (auto it = answer.find("tasks"); it != answer.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Internal("ECS: tasks is not a list");
    for (const auto& v : it->value().get_array()) {
      if (!v.is_object()) return Internal("ECS: a tasks entry is not an object");
      auto task = ParseEcsTask(v.get_object());
      if (!task.ok()) return task.status();
      out.tasks.push_back(std::move(*task));
    }
  }
  if (auto it = answer.find("failures"); it != answer.end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Internal("ECS: failures is not a list");
    for (const auto& v : it->value().get_array()) {
      if (!v.is_object()) return Internal("ECS: a failures entry is not an object");
      const json::object& f = v.get_object();
      EcsFailure failure;
      failure.arn = GetString(f, "arn").value_or("");
      failure.reason = GetString(f, "reason").value_or("");
      failure.detail = GetString(f, "detail").value_or("");
      out.failures.push_back(std::move(failure));
    }
  }
  return out;
}

Result<std::unique_ptr<EcsClient>> EcsClient::Create(EcsClientOptions options,
                                                     net::HttpSender sender, const Clock& clock) {
  if (!ValidRegion(options.region)) {
    return InvalidArgument("ECS: bad region '" + options.region + "'");
  }
  std::string endpoint = options.endpoint.empty()
                             ? "https://ecs." + options.region + ".amazonaws.com"
                             : options.endpoint;
  auto origin = net::ParseUrl(endpoint);
  if (!origin.ok()) return InvalidArgument("ECS endpoint: " + origin.status().message());
  if (origin->path != "/") {
    return InvalidArgument("ECS endpoint '" + endpoint + "' must not have a path");
  }
  if (!sender) return InvalidArgument("ECS: no HTTP sender");
  return std::unique_ptr<EcsClient>(
      new EcsClient(std::move(options), *origin, std::move(sender), clock));
}

EcsClient::EcsClient(EcsClientOptions options, net::Url origin, net::HttpSender sender,
                     const Clock& clock)
    : options_(std::move(options)),
      origin_(std::move(origin)),
      sender_(std::move(sender)),
      clock_(clock),
      retrier_(options_.retry, clock) {}

Result<net::HttpRequest> EcsClient::SignedRequest(std::string_view op, const std::string& body,
                                                  WallTime now) const {
  SigningOptions signing = SigningOptions::ForService(options_.region, "ecs");
  signing.add_content_sha256_header = true;
  SignableRequest signable{"POST",
                           "/",
                           {},
                           {{"Content-Type", "application/x-amz-json-1.1"},
                            {"X-Amz-Target", std::string(kEcsTargetPrefix) + std::string(op)},
                            {"Content-Length", std::to_string(body.size())}},
                           body};
  return BuildSignedRequest(origin_, std::move(signable), options_.credentials, signing, now);
}

Result<json::object> EcsClient::Call(std::string_view op, const std::string& body) const {
  const std::string what = "ECS " + std::string(op);
  {
    std::lock_guard lock(counts_mu_);
    ++counts_.calls[std::string(op)];
  }
  return retrier_.Run<json::object>(what, [&]() -> Result<json::object> {
    {
      std::lock_guard lock(counts_mu_);
      ++counts_.attempts;
    }
    auto wire = SignedRequest(op, body, clock_.Now());
    if (!wire.ok()) return wire.status();
    auto response = sender_(*wire);
    if (!response.ok()) {
      return Status(response.status().code(), what + ": " + response.status().message());
    }
    if (response->status / 100 != 2) return MapEcsError(what, *response);
    auto doc = ParseJson(response->body, 64);
    if (!doc.ok() || !doc->is_object()) return Internal(what + ": malformed answer");
    return std::move(doc->get_object());
  });
}

Result<std::string> EcsClient::RunTaskBody(const EcsRunTaskRequest& r) {
  if (r.client_token.size() > kEcsClientTokenMax) {
    return InvalidArgument("ECS RunTask: clientToken is longer than 64 characters");
  }
  if (r.started_by.size() > kEcsStartedByMax) {
    return InvalidArgument("ECS RunTask: startedBy is longer than 128 characters");
  }
  json::object body;
  body["taskDefinition"] = r.task_definition;
  if (!r.capacity_provider_strategy.empty()) {
    json::array strategy;
    for (const auto& item : r.capacity_provider_strategy) {
      json::object o{{"capacityProvider", item.capacity_provider}};
      if (item.weight) o["weight"] = *item.weight;
      if (item.base) o["base"] = *item.base;
      strategy.push_back(std::move(o));
    }
    body["capacityProviderStrategy"] = std::move(strategy);
  }
  if (!r.cluster.empty()) body["cluster"] = r.cluster;
  body["count"] = 1;
  if (!r.launch_type.empty()) body["launchType"] = r.launch_type;
  if (!r.subnets.empty() || !r.security_groups.empty() || r.assign_public_ip) {
    json::object vpc;
    if (!r.subnets.empty()) vpc["subnets"] = Strings(r.subnets);
    if (!r.security_groups.empty()) vpc["securityGroups"] = Strings(r.security_groups);
    if (r.assign_public_ip) vpc["assignPublicIp"] = *r.assign_public_ip ? "ENABLED" : "DISABLED";
    body["networkConfiguration"] = json::object{{"awsvpcConfiguration", std::move(vpc)}};
  }
  if (!r.container_name.empty()) {
    json::array env;
    for (const auto& [name, value] : r.environment) {
      env.push_back(json::object{{"name", name}, {"value", value}});
    }
    json::object container{{"name", r.container_name}};
    if (!env.empty()) container["environment"] = std::move(env);
    json::object overrides{{"containerOverrides", json::array{std::move(container)}}};
    const std::size_t size = ToJson(overrides).size();
    if (size > kEcsOverridesMax) {
      return InvalidArgument("ECS RunTask: the container overrides are " + std::to_string(size) +
                             " characters, over ECS's limit of 8192");
    }
    body["overrides"] = std::move(overrides);
  }
  if (!r.started_by.empty()) body["startedBy"] = r.started_by;
  if (!r.tags.empty()) {
    json::array tags;
    for (const auto& [k, v] : r.tags) tags.push_back(json::object{{"key", k}, {"value", v}});
    body["tags"] = std::move(tags);
  }
  if (!r.client_token.empty()) body["clientToken"] = r.client_token;
  return ToJson(body);
}

std::string EcsClient::DescribeTasksBody(const std::string& cluster,
                                         const std::vector<std::string>& arns, bool include_tags) {
  json::object body{{"tasks", Strings(arns)}};
  if (!cluster.empty()) body["cluster"] = cluster;
  if (include_tags) body["include"] = json::array{"TAGS"};
  return ToJson(body);
}

std::string EcsClient::StopTaskBody(const std::string& cluster, const std::string& task,
                                    const std::string& reason) {
  json::object body{{"task", task}};
  if (!cluster.empty()) body["cluster"] = cluster;
  if (!reason.empty()) body["reason"] = reason;
  return ToJson(body);
}

std::string EcsClient::ListTasksBody(const EcsListTasksRequest& r) {
  json::object body;
  if (!r.cluster.empty()) body["cluster"] = r.cluster;
  if (!r.family.empty()) body["family"] = r.family;
  if (!r.next_token.empty()) body["nextToken"] = r.next_token;
  if (r.max_results > 0) body["maxResults"] = r.max_results;
  if (!r.started_by.empty()) body["startedBy"] = r.started_by;
  if (!r.desired_status.empty()) body["desiredStatus"] = r.desired_status;
  return ToJson(body);
}

Result<EcsTask> EcsClient::RunTask(const EcsRunTaskRequest& request) const {
  auto body = RunTaskBody(request);
  if (!body.ok()) return body.status();
  // Capacity failures are kUnavailable inside this loop, so the Retrier retries them; a failed
  // Call (already retried by its own loop) ends it as it is.
  std::optional<Status> call_failed;
  auto placed = retrier_.Run<EcsTask>("ECS RunTask", [&]() -> Result<EcsTask> {
    auto answer = Call("RunTask", *body);
    if (!answer.ok()) {
      call_failed = answer.status();
      return Internal("");
    }
    auto list = ParseEcsTaskList(*answer);
    if (!list.ok()) return list.status();
    if (!list->failures.empty()) {
      const EcsFailure& f = list->failures.front();
      std::string text = "ECS RunTask: failure " + f.reason;
      if (!f.detail.empty()) text += ": " + f.detail;
      if (!f.arn.empty()) text += " (" + f.arn + ")";
      return IsEcsCapacityFailure(f.reason) ? Unavailable(text) : FailedPrecondition(text);
    }
    if (list->tasks.empty()) return Internal("ECS RunTask: the answer has no task and no failure");
    return std::move(list->tasks.front());
  });
  if (call_failed) return *call_failed;
  return placed;
}

Result<EcsTaskList> EcsClient::DescribeTasks(const std::string& cluster,
                                             const std::vector<std::string>& arns,
                                             bool include_tags) const {
  EcsTaskList out;
  for (std::size_t i = 0; i < arns.size(); i += kEcsDescribeTasksMax) {
    std::vector<std::string> batch(arns.begin() + static_cast<std::ptrdiff_t>(i),
                                   arns.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                      arns.size(), i + kEcsDescribeTasksMax)));
    auto answer = Call("DescribeTasks", DescribeTasksBody(cluster, batch, include_tags));
    if (!answer.ok()) return answer.status();
    auto list = ParseEcsTaskList(*answer);
    if (!list.ok()) return list.status();
    for (auto& t : list->tasks) out.tasks.push_back(std::move(t));
    for (auto& f : list->failures) out.failures.push_back(std::move(f));
  }
  return out;
}

Result<EcsTask> EcsClient::StopTask(const std::string& cluster, const std::string& task,
                                    const std::string& reason) const {
  auto answer = Call("StopTask", StopTaskBody(cluster, task, reason));
  if (!answer.ok()) return answer.status();
  auto it = answer->find("task");
  if (it == answer->end() || !it->value().is_object()) {
    return Internal("ECS StopTask: no task in the answer");
  }
  return ParseEcsTask(it->value().get_object());
}

Result<EcsTaskArnPage> EcsClient::ListTasks(const EcsListTasksRequest& request) const {
  auto answer = Call("ListTasks", ListTasksBody(request));
  if (!answer.ok()) return answer.status();
  EcsTaskArnPage page;
  if (auto it = answer->find("taskArns"); it != answer->end() && !it->value().is_null()) {
    if (!it->value().is_array()) return Internal("ECS ListTasks: taskArns is not a list");
    for (const auto& v : it->value().get_array()) {
      if (!v.is_string()) return Internal("ECS ListTasks: a taskArns entry is not a string");
      page.task_arns.emplace_back(v.get_string());
    }
  }
  page.next_token = GetString(*answer, "nextToken").value_or("");
  return page;
}

Result<std::vector<std::string>> EcsClient::ListAllTasks(EcsListTasksRequest request) const {
  std::vector<std::string> out;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = ListTasks(request);
    if (!page.ok()) return page.status();
    for (auto& a : page->task_arns) out.push_back(std::move(a));
    if (page->next_token.empty()) return out;
    request.next_token = page->next_token;
  }
  return out;
}

std::int64_t EcsClient::CallCounts::total() const {
  std::int64_t n = 0;
  for (const auto& [op, count] : calls) n += count;
  return n;
}

EcsClient::CallCounts EcsClient::Counts() const {
  std::lock_guard lock(counts_mu_);
  return counts_;
}

}  // namespace outpost::aws
