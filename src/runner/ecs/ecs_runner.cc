#include "runner/ecs/ecs_runner.h"

#include <algorithm>
#include <array>
#include <chrono>

#include "aws/credentials.h"
#include "aws/http.h"
#include "common/crypto.h"
#include "common/ids.h"
#include "common/log.h"

namespace outpost::ecs {
namespace {

// Fargate's stopped-task error prefixes ("Stopped tasks error codes") that mean the task never
// ran its entrypoint: the image, the ENI, the volume, the runtime.
constexpr std::array<std::string_view, 6> kStartErrors = {
    "CannotPullContainerError", "ResourceInitializationError",  "CannotStartContainerError",
    "CannotCreateVolumeError",  "ContainerRuntimeTimeoutError", "DockerTimeoutError",
};

bool StartError(std::string_view text) {
  return std::any_of(kStartErrors.begin(), kStartErrors.end(),
                     [&](std::string_view p) { return text.find(p) != text.npos; });
}

// ECS's StopTask reason: "Up to 255 characters are allowed in this message."
std::string StopReason(std::string_view prefix, std::string_view why) {
  std::string r = std::string(prefix) + std::string(why);
  if (r.size() > 255) r.resize(255);
  return r;
}

std::string Seconds(Millis d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

EcsRunner::EcsRunner(const aws::EcsClient& client, Clock& clock, Config config)
    : client_(client), clock_(clock), config_(std::move(config)) {}

Result<EcsRunner::WithClient> EcsRunner::Create(const std::string& region,
                                                const std::string& endpoint,
                                                const std::map<std::string, std::string>& env,
                                                Clock& clock, Config config) {
  aws::EcsClientOptions o;
  o.endpoint = endpoint;
  if (!region.empty()) {
    o.region = region;
  } else {
    auto r = aws::ResolveRegion(env);
    if (!r.ok()) return FailedPrecondition("runner.ecs.region: " + r.status().message());
    o.region = *r;
  }
  auto credentials = aws::ResolveCredentials(env);
  if (!credentials.ok()) {
    return FailedPrecondition("ecs runner: AWS credentials: " + credentials.status().message());
  }
  o.credentials = *credentials;
  auto client = aws::EcsClient::Create(o, aws::MakeHttpSender(env), clock);
  if (!client.ok()) return client.status();
  WithClient out;
  out.client = std::move(*client);
  out.runner = std::make_unique<EcsRunner>(*out.client, clock, std::move(config));
  return out;
}

std::string EcsRunner::TaskOf(const RunId& id) const {
  std::lock_guard lock(mu_);
  auto it = runs_.find(id.str());
  return it == runs_.end() ? "" : it->second.arn;
}

bool EcsRunner::Holds(const RunId& id) {
  if (!IsUlid(id.str())) return false;
  std::lock_guard lock(mu_);
  if (runs_.count(id.str())) return true;
  const MonoTime now = clock_.Mono();
  if (auto it = not_ours_.find(id.str()); it != not_ours_.end()) {
    if (now - it->second < std::chrono::minutes(1)) return false;
    not_ours_.erase(it);
  }
  Status error;
  if (Adopt(id, &error)) return true;
  if (error.ok()) {
    if (not_ours_.size() > 10'000) not_ours_.clear();
    not_ours_[id.str()] = now;
  }
  return false;
}

std::size_t EcsRunner::tracked() const {
  std::lock_guard lock(mu_);
  return runs_.size();
}

Result<aws::EcsRunTaskRequest> EcsRunner::RunTaskFor(const RunSpec& spec) const {
  if (!IsUlid(spec.id.str())) return InvalidArgument("ecs: bad run id '" + spec.id.str() + "'");
  if (spec.agent.empty()) return InvalidArgument("ecs: the run names no agent");
  if (config_.subnets.empty()) {
    return InvalidArgument("No subnets configured for ECS workers ([runner.ecs] subnets)");
  }
  if (!spec.channel || spec.channel->url.empty()) {
    return FailedPrecondition("ecs: the run has no run channel");
  }
  if (spec.channel->bootstrap_token.empty()) {
    // The channel token itself would land in CloudTrail with the overrides.
    return FailedPrecondition("ecs: no bootstrap token for the run (the task needs one)");
  }
  aws::EcsRunTaskRequest r;
  r.cluster = config_.cluster;
  r.task_definition = TaskDefinitionFor(spec.agent);
  if (config_.capacity_provider.empty()) {
    r.launch_type = "FARGATE";
  } else {
    r.capacity_provider_strategy = {{config_.capacity_provider, 1, std::nullopt}};
  }
  r.subnets = config_.subnets;
  r.security_groups = config_.security_groups;
  r.assign_public_ip = config_.assign_public_ip;
  r.container_name = spec.agent;
  r.environment = {{kTaskEnvRunId, spec.id.str()},
                   {kTaskEnvChannelUrl, spec.channel->url},
                   {kTaskEnvBootstrapToken, spec.channel->bootstrap_token}};
  r.started_by = spec.id.str();
  const WallTime deadline =
      clock_.Now() + std::chrono::seconds(spec.limits.timeout_seconds + spec.limits.grace_seconds +
                                          config_.stop_after_grace_seconds);
  r.tags = {
      {kTagRunId, spec.id.str()},
      {kTagAgent, spec.agent},
      {kTagTenant, spec.tenant.empty() ? "default" : spec.tenant},
      {kTagDeadline,
       std::to_string(
           std::chrono::duration_cast<std::chrono::seconds>(deadline.time_since_epoch()).count())}};
  r.client_token = spec.id.str() + "-" + Sha256Hex(spec.channel->token).substr(0, 16);
  return r;
}

Status EcsRunner::Start(const RunSpec& spec) {
  auto request = RunTaskFor(spec);
  if (!request.ok()) return request.status();
  if (auto body = aws::EcsClient::RunTaskBody(*request); !body.ok()) return body.status();
  std::lock_guard lock(mu_);
  if (runs_.count(spec.id.str())) return Conflict("run " + spec.id.str() + " was started before");
  auto task = client_.RunTask(*request);
  if (!task.ok()) return task.status();
  Tracked t;
  t.arn = task->task_arn;
  t.launched = clock_.Mono();
  t.deadline =
      clock_.Now() + std::chrono::seconds(spec.limits.timeout_seconds + spec.limits.grace_seconds +
                                          config_.stop_after_grace_seconds);
  spdlog::info("run {}: ECS task {} ({})", spec.id.str(), t.arn, request->task_definition);
  described_[t.arn] = std::move(*task);
  runs_[spec.id.str()] = std::move(t);
  return Status::Ok();
}

void EcsRunner::RefreshLocked() {
  const MonoTime now = clock_.Mono();
  if (described_at_ && now - *described_at_ < config_.describe_interval) return;
  described_at_ = now;
  std::vector<std::string> arns;
  for (const auto& [id, t] : runs_) arns.push_back(t.arn);
  if (arns.empty()) return;
  auto list = client_.DescribeTasks(config_.cluster, arns);
  if (!list.ok()) {
    describe_error_ = list.status();
    if (!failing_since_) failing_since_ = now;
    spdlog::warn("ecs: DescribeTasks: {}", list.status().ToString());
    return;
  }
  describe_error_ = Status::Ok();
  failing_since_.reset();
  missing_.clear();
  for (auto& task : list->tasks) described_[task.task_arn] = std::move(task);
  for (const auto& f : list->failures) {
    if (f.reason == "MISSING") missing_.insert(f.arn);
  }
}

std::optional<aws::EcsTask> EcsRunner::Adopt(const RunId& id, Status* error) {
  for (const char* desired : {"RUNNING", "STOPPED"}) {
    aws::EcsListTasksRequest list;
    list.cluster = config_.cluster;
    list.started_by = id.str();
    list.desired_status = desired;
    auto arns = client_.ListAllTasks(list);
    if (!arns.ok()) {
      *error = arns.status();
      return std::nullopt;
    }
    if (arns->empty()) continue;
    auto tasks = client_.DescribeTasks(config_.cluster, *arns, /*include_tags=*/true);
    if (!tasks.ok()) {
      *error = tasks.status();
      return std::nullopt;
    }
    for (auto& task : tasks->tasks) {
      auto tag = task.tags.find(kTagRunId);
      if (task.started_by != id.str() || tag == task.tags.end() || tag->second != id.str()) {
        continue;  // not one of ours
      }
      Tracked t;
      t.arn = task.task_arn;
      t.launched = clock_.Mono();
      if (auto d = task.tags.find(kTagDeadline); d != task.tags.end()) {
        try {
          t.deadline = WallTime(std::chrono::seconds(std::stoll(d->second)));
        } catch (...) {
        }
      }
      // Our own stop, read back from its reason.
      if (task.stopped_reason.starts_with(kStopCancelled)) {
        t.stop = Tracked::Stop::kCancel;
        t.stop_sent = true;
        t.cancel_reason = task.stopped_reason.substr(std::string_view(kStopCancelled).size());
      } else if (task.stopped_reason.starts_with(kStopDeadline)) {
        t.stop = Tracked::Stop::kDeadline;
        t.stop_sent = true;
      } else if (task.stopped_reason.starts_with(kStopStartTimeout)) {
        t.stop = Tracked::Stop::kStartTimeout;
        t.stop_sent = true;
      }
      spdlog::info("run {}: adopted ECS task {} ({})", id.str(), t.arn, task.last_status);
      runs_[id.str()] = std::move(t);
      described_[task.task_arn] = task;
      return task;
    }
  }
  return std::nullopt;
}

Status EcsRunner::SendStop(const RunId& id, Tracked& t, Tracked::Stop why,
                           const std::string& reason) {
  if (t.stop == Tracked::Stop::kNone) t.stop = why;
  auto stopped = client_.StopTask(config_.cluster, t.arn, reason);
  if (!stopped.ok()) {
    spdlog::warn("run {}: StopTask {}: {}", id.str(), t.arn, stopped.status().ToString());
    return stopped.status();
  }
  t.stop_sent = true;
  described_[t.arn] = std::move(*stopped);
  return Status::Ok();
}

Status EcsRunner::RequestCancel(const RunId& id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = runs_.find(id.str());
  if (it == runs_.end()) {
    Status error;
    if (!Adopt(id, &error)) {
      if (!error.ok()) return error;
      return NotFound("run " + id.str() + " has no ECS task");
    }
    it = runs_.find(id.str());
  }
  Tracked& t = it->second;
  if (!t.cancel_reason) t.cancel_reason = reason;
  if (t.stop_sent) return Status::Ok();
  return SendStop(id, t, Tracked::Stop::kCancel, StopReason(kStopCancelled, *t.cancel_reason));
}

ShimProbe EcsRunner::Probe(const RunId& id) {
  if (!IsUlid(id.str())) return {ShimState::kNotStarted, std::nullopt};
  std::lock_guard lock(mu_);
  auto it = runs_.find(id.str());
  if (it == runs_.end()) {
    Status error;
    if (!Adopt(id, &error)) {
      if (!error.ok()) {
        // Nothing can be decided while ECS does not answer; asked again next tick.
        spdlog::warn("run {}: cannot look its ECS task up: {}", id.str(), error.ToString());
        return {ShimState::kRunning, std::nullopt};
      }
      return {ShimState::kNotStarted, std::nullopt};
    }
    it = runs_.find(id.str());
  }
  RefreshLocked();
  Tracked& t = it->second;
  const MonoTime now = clock_.Mono();
  if (!describe_error_.ok() && failing_since_) {
    if (now - *failing_since_ < config_.lost_grace) return {ShimState::kRunning, std::nullopt};
    ShimProbe lost{ShimState::kLost, std::nullopt};
    lost.message = "ECS did not answer DescribeTasks for " + Seconds(config_.lost_grace) +
                   " ([runner.ecs] lost_grace_seconds): " + describe_error_.message();
    runs_.erase(it);
    return lost;
  }
  if (missing_.count(t.arn)) {
    if (!t.missing_since) t.missing_since = now;
    if (now - *t.missing_since < config_.lost_grace) return {ShimState::kRunning, std::nullopt};
    ShimProbe lost{ShimState::kLost, std::nullopt};
    lost.message = "ECS does not know the run's task " + t.arn + " (DescribeTasks: MISSING) for " +
                   Seconds(config_.lost_grace) + " ([runner.ecs] lost_grace_seconds)";
    described_.erase(t.arn);
    runs_.erase(it);
    return lost;
  }
  t.missing_since.reset();
  auto d = described_.find(t.arn);
  if (d == described_.end()) return {ShimState::kRunning, std::nullopt};
  const aws::EcsTask& task = d->second;
  if (task.last_status != "STOPPED" && task.last_status != "DELETED") {
    if (t.cancel_reason && !t.stop_sent) {
      (void)SendStop(id, t, Tracked::Stop::kCancel, StopReason(kStopCancelled, *t.cancel_reason));
    } else if (!t.stop_sent && !task.started_at &&
               (task.last_status == "PROVISIONING" || task.last_status == "PENDING" ||
                task.last_status == "ACTIVATING") &&
               now - t.launched >= config_.start_timeout) {
      (void)SendStop(
          id, t, Tracked::Stop::kStartTimeout,
          StopReason(kStopStartTimeout, "not RUNNING after " + Seconds(config_.start_timeout)));
    } else if (!t.stop_sent && t.deadline && clock_.Now() >= *t.deadline) {
      (void)SendStop(id, t, Tracked::Stop::kDeadline,
                     StopReason(kStopDeadline, "the run's timeout passed"));
    }
    return {ShimState::kRunning, std::nullopt};
  }
  ShimProbe ended = Ended(id, t, task);
  described_.erase(d);
  runs_.erase(it);
  return ended;
}

ShimProbe EcsRunner::Ended(const RunId& id, const Tracked& t, const aws::EcsTask& task) const {
  ExitRecord rec;
  rec.started_at = task.started_at;
  rec.ended_at = task.stopped_at.value_or(clock_.Now());
  const aws::EcsContainer* container = nullptr;
  for (const auto& c : task.containers) {
    if (!container || c.exit_code) container = &c;
  }
  if (container) rec.exit_code = container->exit_code;
  const std::string container_reason = container ? container->reason : "";
  std::string aws_message = task.stopped_reason;
  if (!container_reason.empty() && container_reason != aws_message) {
    aws_message += (aws_message.empty() ? "" : "; container: ") + container_reason;
  }
  rec.message = "ECS task " + task.task_arn + " stopped" +
                (task.stop_code.empty() ? "" : " (" + task.stop_code + ")") +
                (aws_message.empty() ? "" : ": " + aws_message);
  if (t.stop == Tracked::Stop::kCancel) {
    rec.outcome = ExitOutcome::kCancelled;
    rec.cancel_reason = t.cancel_reason.value_or("cancelled");
  } else if (t.stop == Tracked::Stop::kDeadline) {
    rec.outcome = ExitOutcome::kTimeoutTotal;
  } else if (t.stop == Tracked::Stop::kStartTimeout || task.stop_code == "TaskFailedToStart" ||
             StartError(task.stopped_reason) || StartError(container_reason)) {
    rec.outcome = ExitOutcome::kStartFailed;
  } else if (container_reason.find("OutOfMemoryError") != std::string::npos) {
    rec.outcome = ExitOutcome::kOom;
  } else if (task.stop_code == "UserInitiated") {
    rec.outcome = ExitOutcome::kCancelled;
    rec.cancel_reason = "the ECS task was stopped outside Outpost: " +
                        (task.stopped_reason.empty() ? "no reason given" : task.stopped_reason);
  } else if (task.stop_code == "SpotInterruption" || task.stop_code == "TerminationNotice" ||
             task.stop_code == "InfrastructureHealth" ||
             task.stop_code == "ServiceSchedulerInitiated") {
    ShimProbe lost{ShimState::kLost, std::nullopt};
    lost.message = rec.message;
    spdlog::warn("run {}: {}", id.str(), lost.message);
    return lost;
  } else {
    // The task ended by itself: its exit is the record it posted over the run channel (with the
    // agent's result and changes), which core takes for a lost run; without one the run ends
    // supervisor_lost with this message (as the docker runner's remote mode).
    ShimProbe lost{ShimState::kLost, std::nullopt};
    lost.message = rec.message +
                   (rec.exit_code ? "; container exit code " + std::to_string(*rec.exit_code)
                                  : std::string()) +
                   " (its exit record is the one posted over the run channel)";
    spdlog::info("run {}: {}", id.str(), lost.message);
    return lost;
  }
  spdlog::info("run {}: {} -> {}", id.str(), rec.message, ToString(rec.outcome));
  return {ShimState::kExited, std::move(rec)};
}

std::vector<RunId> EcsRunner::LiveRuns() {
  std::vector<RunId> out;
  aws::EcsListTasksRequest list;
  list.cluster = config_.cluster;
  list.desired_status = "RUNNING";
  auto arns = client_.ListAllTasks(list);
  if (!arns.ok()) {
    spdlog::warn("ecs: cannot list the cluster's tasks: {}", arns.status().ToString());
    return out;
  }
  if (arns->empty()) return out;
  auto tasks = client_.DescribeTasks(config_.cluster, *arns, /*include_tags=*/true);
  if (!tasks.ok()) {
    spdlog::warn("ecs: cannot describe the cluster's tasks: {}", tasks.status().ToString());
    return out;
  }
  const std::string family = "family:" + config_.task_definition_prefix;
  for (const auto& task : tasks->tasks) {
    auto tag = task.tags.find(kTagRunId);
    if (tag == task.tags.end() || tag->second != task.started_by || !IsUlid(task.started_by)) {
      continue;
    }
    if (!task.group.empty() && !task.group.starts_with(family)) continue;
    out.emplace_back(task.started_by);
  }
  return out;
}

int EcsRunner::Reap(const RunId& id) {
  // The router asks every runner to reap every orphan: Holds remembers runs that have no task.
  if (!Holds(id)) return 0;
  std::lock_guard lock(mu_);
  auto it = runs_.find(id.str());
  if (it == runs_.end()) return 0;
  Tracked& t = it->second;
  auto d = described_.find(t.arn);
  if (d != described_.end() && d->second.last_status == "STOPPED") return 0;
  if (!SendStop(id, t, Tracked::Stop::kReap, StopReason(kStopReaped, "the run is over")).ok()) {
    return 0;
  }
  spdlog::warn("run {}: reaped its ECS task {}", id.str(), t.arn);
  described_.erase(t.arn);
  runs_.erase(it);
  return 1;
}

}  // namespace outpost::ecs
