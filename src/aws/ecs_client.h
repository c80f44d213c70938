// EcsClient: the Amazon ECS calls the ecs runner (runner/ecs/ecs_runner.h) needs, over the JSON
// 1.1 protocol (POST / with `X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`,
// `Content-Type: application/x-amz-json-1.1`), SigV4 signed for service "ecs" (Content-Length
// and x-amz-content-sha256 signed too, as the AWS SDK for JavaScript v3 signs them), with
// retries. Request bodies are written with their members in the order the SDK's model lists
// them, so that the bytes — and so the signature — equal the SDK's for the same input
// (src/aws/ecs_client_sdk_test.cc compares them).
//
// Errors (the `__type` of ECS's error document — "ClientException" or a namespaced
// "com.amazonaws.ecs#ClientException" — and its `message` are kept in the Status's message:
// "ECS RunTask: ClientException: Unable to find task definition"):
//   ThrottlingException and every IsThrottlingCode name, ServerException, 429, 5xx and network
//     failures -> retried with jittered backoff, then kUnavailable;
//   ClusterNotFoundException, ServiceNotFoundException -> kNotFound;
//   AccessDeniedException, UnrecognizedClientException, InvalidSignatureException, expired or
//     missing tokens -> kPermissionDenied;
//   ClientException, InvalidParameterException, PlatformUnknownException,
//     PlatformTaskDefinitionIncompatibilityException, UnsupportedFeatureException, BlockedException
//     and any other 4xx -> kInvalidArgument; ConflictException -> kConflict; anything else ->
//     kInternal.
// RunTask's `failures[]` (a 200 answer: the task was not placed): a reason that means capacity
// ("RESOURCE:CPU", "RESOURCE:MEMORY", "RESOURCE:ENI", "Capacity is unavailable at this time…")
// is retried like throttling (the same clientToken, so a retry never starts a second task),
// then kUnavailable; any other reason ("MISSING", "AGENT", "ATTRIBUTE", …) -> kFailedPrecondition.
// Both name the reason and its detail.
//
// Thread-safety: every method is const and may be called concurrently (the sender must be
// thread-safe, as MakeHttpSender's is).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/retry.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http_transport.h"
#include "net/url.h"

namespace outpost::aws {

inline constexpr std::string_view kEcsTargetPrefix = "AmazonEC2ContainerServiceV20141113.";
// DescribeTasks takes at most this many task ids or ARNs per call (API reference: "A list of up
// to 100 task IDs or full ARN entries").
inline constexpr std::size_t kEcsDescribeTasksMax = 100;
// A RunTask clientToken: "Up to 64 ASCII characters are allowed".
inline constexpr std::size_t kEcsClientTokenMax = 64;
// startedBy: "Up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward
// slash (/), and underscores (_) are allowed."
inline constexpr std::size_t kEcsStartedByMax = 128;
// "A total of 8192 characters are allowed for overrides. This limit includes the JSON
// formatting characters of the override structure." (RunTask, overrides).
inline constexpr std::size_t kEcsOverridesMax = 8192;

struct EcsClientOptions {
  std::string region = "us-east-1";
  // "scheme://host[:port]" of an ECS-compatible server (the test double); "" = AWS
  // (https://ecs.<region>.amazonaws.com).
  std::string endpoint;
  Credentials credentials;
  RetryPolicy retry;
};

struct EcsContainer {
  std::string name;
  std::string last_status;
  std::optional<int> exit_code;
  std::string reason;  // "OutOfMemoryError: Container killed due to memory usage", …
};

// One task as DescribeTasks, RunTask and StopTask describe it (the fields the runner uses).
struct EcsTask {
  std::string task_arn;
  std::string cluster_arn;
  std::string task_definition_arn;
  std::string last_status;     // PROVISIONING PENDING ACTIVATING RUNNING DEACTIVATING STOPPING
                               // DEPROVISIONING STOPPED DELETED
  std::string desired_status;  // RUNNING | STOPPED
  std::string started_by;
  std::string group;        // "family:outpost-prod-claude" for a RunTask task
  std::string launch_type;  // FARGATE | EC2 | EXTERNAL | MANAGED_INSTANCES
  std::string stop_code;    // TaskFailedToStart EssentialContainerExited UserInitiated
                            // ServiceSchedulerInitiated SpotInterruption TerminationNotice
                            // InfrastructureHealth
  std::string stopped_reason;
  std::optional<WallTime> created_at, started_at, stopping_at, stopped_at;
  std::vector<EcsContainer> containers;
  std::map<std::string, std::string> tags;  // with include ["TAGS"]
};

// One entry of `failures[]`.
struct EcsFailure {
  std::string arn;
  std::string reason;  // "MISSING", "RESOURCE:MEMORY", …
  std::string detail;
};

struct EcsCapacityProviderItem {
  std::string capacity_provider;  // "FARGATE", "FARGATE_SPOT", a provider's name
  std::optional<int> weight;
  std::optional<int> base;
};

struct EcsRunTaskRequest {
  std::string cluster;
  std::string task_definition;  // family, family:revision or ARN
  // Exactly one of the two (the runner's config decides): a launch type, or a strategy.
  std::string launch_type;  // "FARGATE"; "" = none given
  std::vector<EcsCapacityProviderItem> capacity_provider_strategy;
  std::vector<std::string> subnets;
  std::vector<std::string> security_groups;
  std::optional<bool> assign_public_ip;  // ENABLED | DISABLED; nullopt = not sent
  std::string container_name;            // the container the environment override is for
  std::vector<std::pair<std::string, std::string>> environment;
  std::string started_by;
  std::vector<std::pair<std::string, std::string>> tags;  // key, value
  std::string client_token;
};

struct EcsTaskList {
  std::vector<EcsTask> tasks;
  std::vector<EcsFailure> failures;
};

struct EcsListTasksRequest {
  std::string cluster;
  std::string family;          // "" = any
  std::string started_by;      // "" = any
  std::string desired_status;  // RUNNING | PENDING | STOPPED; "" = ECS's default (RUNNING)
  int max_results = 0;         // 0 = ECS's default (100)
  std::string next_token;
};

struct EcsTaskArnPage {
  std::vector<std::string> task_arns;
  std::string next_token;  // "" = the last page
};

class EcsClient {
 public:
  // `clock` signs requests, bounds retries and is slept on between them. kInvalidArgument for an
  // unusable region or endpoint.
  static Result<std::unique_ptr<EcsClient>> Create(EcsClientOptions options, net::HttpSender sender,
                                                   const Clock& clock);

  // One call of `op` ("RunTask") with `body` (already serialized) — ECS's answer. Retries as
  // the header says.
  Result<boost::json::object> Call(std::string_view op, const std::string& body) const;

  // The signed request of one call as it would go on the wire at `now` (no retry, not sent).
  Result<net::HttpRequest> SignedRequest(std::string_view op, const std::string& body,
                                         WallTime now) const;

  // RunTask; a capacity failure is retried (see the header), another failure is an error. The
  // placed task (RunTask starts exactly one: count 1).
  Result<EcsTask> RunTask(const EcsRunTaskRequest& request) const;
  // DescribeTasks of any number of ARNs, in calls of at most kEcsDescribeTasksMax; tags
  // included when `include_tags`. Unknown ARNs come back as failures (reason "MISSING").
  Result<EcsTaskList> DescribeTasks(const std::string& cluster,
                                    const std::vector<std::string>& arns,
                                    bool include_tags = false) const;
  // StopTask: the task as it is now (desiredStatus STOPPED). kInvalidArgument (ClientException)
  // for a task ECS does not know.
  Result<EcsTask> StopTask(const std::string& cluster, const std::string& task,
                           const std::string& reason) const;
  // One page of ListTasks.
  Result<EcsTaskArnPage> ListTasks(const EcsListTasksRequest& request) const;
  // Every page of ListTasks (bounded: 100 pages).
  Result<std::vector<std::string>> ListAllTasks(EcsListTasksRequest request) const;

  // The request bodies, serialized in the SDK's member order (pure; the SDK comparison uses
  // them). RunTaskBody: kInvalidArgument when the overrides exceed kEcsOverridesMax, the
  // clientToken kEcsClientTokenMax or startedBy kEcsStartedByMax.
  static Result<std::string> RunTaskBody(const EcsRunTaskRequest& request);
  static std::string DescribeTasksBody(const std::string& cluster,
                                       const std::vector<std::string>& arns, bool include_tags);
  static std::string StopTaskBody(const std::string& cluster, const std::string& task,
                                  const std::string& reason);
  static std::string ListTasksBody(const EcsListTasksRequest& request);

  const EcsClientOptions& options() const { return options_; }

  // Calls per operation since creation (one per Call, however many attempts), attempts = HTTP
  // requests sent. For the benchmark and the batching tests.
  struct CallCounts {
    std::map<std::string, std::int64_t> calls;
    std::int64_t attempts = 0;
    std::int64_t total() const;
  };
  CallCounts Counts() const;

 private:
  EcsClient(EcsClientOptions options, net::Url origin, net::HttpSender sender, const Clock& clock);

  EcsClientOptions options_;
  net::Url origin_;
  net::HttpSender sender_;
  const Clock& clock_;
  Retrier retrier_;
  mutable std::mutex counts_mu_;
  mutable CallCounts counts_;  // guarded by counts_mu_
};

// The Status of a non-2xx answer: "<what>: <Type>: <message>" (or "HTTP <status>" when the
// body names no type), with the code listed in the header.
Status MapEcsError(std::string_view what, const net::HttpResponse& response);

// A Task object of an ECS answer. Unknown members are ignored; a member of the wrong type is
// kInternal naming it.
Result<EcsTask> ParseEcsTask(const boost::json::object& task);
// `tasks` and `failures` of a RunTask or DescribeTasks answer.
Result<EcsTaskList> ParseEcsTaskList(const boost::json::object& answer);
// Whether a failures[] reason means "no capacity now" (retried).
bool IsEcsCapacityFailure(std::string_view reason);

}  // namespace outpost::aws
