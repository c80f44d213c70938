// The ECS client against the API reference's documented answers: the response examples of
// RunTask, DescribeTasks, StopTask and ListTasks (the ECS API reference's examples, as shipped
// in @aws-sdk/client-ecs's command docs), the JSON 1.1 error document ({"__type", "message"},
// HTTP 400 for client faults and throttling, 500 for ServerException), RunTask's `failures[]`,
// and the Fargate stop reasons ("Stopped tasks error codes"). A FakeHttpServer answers; sleeps
// are simulated.
#include "aws/ecs_client.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <mutex>

#include "aws/http.h"
#include "common/json_util.h"
#include "testing/fake_http_server.h"
#include "testing/status_matchers.h"

namespace outpost::aws {
namespace {

namespace json = boost::json;
using outpost::testing::FakeHttpServer;
using outpost::testing::FakeRequest;
using outpost::testing::FakeResponse;

// RunTask's documented example answer ("To run a task on your default cluster").
constexpr char kRunTaskAnswer[] = R"({
  "tasks": [
    {
      "containerInstanceArn": "arn:aws:ecs:us-east-1:<aws_account_id>:container-instance/default/ffe3d344-77e2-476c-a4d0-bf560ad50acb",
      "containers": [
        {
          "containerArn": "arn:aws:ecs:us-east-1:<aws_account_id>:container/default/58591c8e-be29-4ddf-95aa-ee459d4c59fd",
          "lastStatus": "PENDING",
          "name": "sleep",
          "taskArn": "arn:aws:ecs:us-east-1:<aws_account_id>:task/default/a9f21ea7-c9f5-44b1-b8e6-b31f50ed33c0"
        }
      ],
      "desiredStatus": "RUNNING",
      "lastStatus": "PENDING",
      "overrides": {"containerOverrides": [{"name": "sleep"}]},
      "taskArn": "arn:aws:ecs:us-east-1:<aws_account_id>:task/default/a9f21ea7-c9f5-44b1-b8e6-b31f50ed33c0",
      "taskDefinitionArn": "arn:aws:ecs:us-east-1:<aws_account_id>:task-definition/sleep360:1"
    }
  ]
})";

// DescribeTasks' documented example answer ("To describe a task").
constexpr char kDescribeTasksAnswer[] = R"({
  "failures": [],
  "tasks": [
    {
      "clusterArn": "arn:aws:ecs:<region>:<aws_account_id>:cluster/default",
      "containerInstanceArn": "arn:aws:ecs:<region>:<aws_account_id>:container-instance/default/18f9eda5-27d7-4c19-b133-45adc516e8fb",
      "containers": [
        {
          "containerArn": "arn:aws:ecs:<region>:<aws_account_id>:container/7c01765b-c588-45b3-8290-4ba38bd6c5a6",
          "lastStatus": "RUNNING",
          "name": "ecs-demo",
          "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 80}],
          "taskArn": "arn:aws:ecs:<region>:<aws_account_id>:task/default/c5cba4eb-5dad-405e-96db-71ef8eefe6a8"
        }
      ],
      "desiredStatus": "RUNNING",
      "lastStatus": "RUNNING",
      "overrides": {"containerOverrides": [{"name": "ecs-demo"}]},
      "startedBy": "ecs-svc/9223370608528463088",
      "taskArn": "arn:aws:ecs:<region>:<aws_account_id>:task/default/c5cba4eb-5dad-405e-96db-71ef8eefe6a8",
      "taskDefinitionArn": "arn:aws:ecs:<region>:<aws_account_id>:task-definition/amazon-ecs-sample:1"
    }
  ]
})";

// StopTask's documented example answer ("To stop a task"): timestamps as epoch seconds.
constexpr char kStopTaskAnswer[] = R"({
  "task": {
    "clusterArn": "arn:aws:ecs:us-east-1:012345678910:cluster/MyCluster",
    "containers": [
      {"containerArn": "arn:aws:ecs:us-east-1:012345678910:container/4df26bb4-f057-467b-a079-961675296e64",
       "lastStatus": "RUNNING", "name": "simple-app",
       "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 32774, "protocol": "tcp"}],
       "taskArn": "arn:aws:ecs:us-east-1:012345678910:task/MyCluster/1dc5c17a-422b-4dc4-b493-371970c6c4d6"},
      {"containerArn": "arn:aws:ecs:us-east-1:012345678910:container/e09064f7-7361-4c87-8ab9-8d073bbdbcb9",
       "lastStatus": "RUNNING", "name": "busybox", "networkBindings": [],
       "taskArn": "arn:aws:ecs:us-east-1:012345678910:task/MyCluster/1dc5c17a-422b-4dc4-b493-371970c6c4d6"}
    ],
    "createdAt": 1.476822811295E9,
    "desiredStatus": "STOPPED",
    "lastStatus": "RUNNING",
    "overrides": {"containerOverrides": [{"name": "simple-app"}, {"name": "busybox"}]},
    "startedAt": 1.476822833998E9,
    "startedBy": "ecs-svc/9223370560032507596",
    "stoppedReason": "testing stop task.",
    "taskArn": "arn:aws:ecs:us-east-1:012345678910:task/1dc5c17a-422b-4dc4-b493-371970c6c4d6",
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:012345678910:task-definition/console-sample-app-dynamic-ports:1",
    "version": 0
  }
})";

// ListTasks' documented example answer ("To list the tasks in a cluster").
constexpr char kListTasksAnswer[] = R"({
  "taskArns": [
    "arn:aws:ecs:us-east-1:012345678910:task/default/0cc43cdb-3bee-4407-9c26-c0e6ea5bee84",
    "arn:aws:ecs:us-east-1:012345678910:task/default/6b809ef6-c67e-4467-921f-ee261c15a0a1"
  ]
})";

std::string Error(const std::string& type, const std::string& message) {
  return ToJson(json::object{{"__type", type}, {"message", message}});
}

class EcsClientTest : public ::testing::Test {
 protected:
  void Serve(std::vector<FakeResponse> script) {
    {
      std::lock_guard lock(mu_);
      script_ = std::move(script);
    }
    server_ = std::make_unique<FakeHttpServer>([this](const FakeRequest&) {
      std::lock_guard lock(mu_);
      FakeResponse r = script_[std::min(next_, script_.size() - 1)];
      ++next_;
      return r;
    });
    EcsClientOptions o;
    o.region = "us-east-1";
    o.endpoint = server_->endpoint();
    o.credentials = {"AKIDEXAMPLE", "secret", ""};
    o.retry.base_delay = Millis(1000);
    clock_.set_advance_on_sleep(true);
    auto c = EcsClient::Create(o, MakeHttpSender({}), clock_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }

  SimulatedClock clock_;
  std::mutex mu_;
  std::vector<FakeResponse> script_;
  std::size_t next_ = 0;
  std::unique_ptr<FakeHttpServer> server_;
  std::unique_ptr<EcsClient> client_;
};

EcsRunTaskRequest SomeRun() {
  EcsRunTaskRequest r;
  r.cluster = "default";
  r.task_definition = "sleep360:1";
  r.launch_type = "FARGATE";
  r.subnets = {"subnet-1"};
  r.container_name = "sleep";
  r.environment = {{"OUTPOST_RUN_ID", "01JDZXKQ3J8V6W1N2P4R5S7T9V"}};
  r.client_token = "01JDZXKQ3J8V6W1N2P4R5S7T9V-1";
  return r;
}

TEST_F(EcsClientTest, RunTaskParsesTheDocumentedAnswer) {
  Serve({{200, kRunTaskAnswer, {}}});
  auto task = client_->RunTask(SomeRun());
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->task_arn,
            "arn:aws:ecs:us-east-1:<aws_account_id>:task/default/"
            "a9f21ea7-c9f5-44b1-b8e6-b31f50ed33c0");
  EXPECT_EQ(task->last_status, "PENDING");
  EXPECT_EQ(task->desired_status, "RUNNING");
  ASSERT_EQ(task->containers.size(), 1u);
  EXPECT_EQ(task->containers[0].name, "sleep");
  EXPECT_FALSE(task->containers[0].exit_code);
  auto sent = server_->requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].headers["x-amz-target"], "AmazonEC2ContainerServiceV20141113.RunTask");
  EXPECT_EQ(sent[0].headers["content-type"], "application/x-amz-json-1.1");
  EXPECT_NE(sent[0].headers["authorization"].find("/us-east-1/ecs/aws4_request"),
            std::string::npos);
}

TEST_F(EcsClientTest, DescribeTasksParsesTheDocumentedAnswer) {
  Serve({{200, kDescribeTasksAnswer, {}}});
  auto list = client_->DescribeTasks("default", {"c5cba4eb-5dad-405e-96db-71ef8eefe6a8"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->tasks.size(), 1u);
  EXPECT_TRUE(list->failures.empty());
  EXPECT_EQ(list->tasks[0].last_status, "RUNNING");
  EXPECT_EQ(list->tasks[0].started_by, "ecs-svc/9223370608528463088");
  EXPECT_EQ(list->tasks[0].cluster_arn, "arn:aws:ecs:<region>:<aws_account_id>:cluster/default");
}

TEST_F(EcsClientTest, StopTaskParsesTheDocumentedAnswerWithEpochSecondTimestamps) {
  Serve({{200, kStopTaskAnswer, {}}});
  auto task =
      client_->StopTask("MyCluster", "1dc5c17a-422b-4dc4-b493-371970c6c4d6", "testing stop task.");
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->desired_status, "STOPPED");
  EXPECT_EQ(task->stopped_reason, "testing stop task.");
  ASSERT_TRUE(task->created_at);
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::milliseconds>(task->created_at->time_since_epoch())
          .count(),
      1476822811295);
  ASSERT_EQ(task->containers.size(), 2u);
  EXPECT_EQ(task->containers[1].name, "busybox");
}

TEST_F(EcsClientTest, ListTasksParsesTheDocumentedAnswerAndFollowsNextToken) {
  Serve({{200, R"({"taskArns": ["arn:a"], "nextToken": "t2"})", {}}, {200, kListTasksAnswer, {}}});
  EcsListTasksRequest r;
  r.cluster = "default";
  auto all = client_->ListAllTasks(r);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2],
            "arn:aws:ecs:us-east-1:012345678910:task/default/6b809ef6-c67e-4467-921f-ee261c15a0a1");
  auto sent = server_->requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[1].body.find("\"nextToken\":\"t2\""), std::string::npos);
}

TEST_F(EcsClientTest, DescribeTasksBatchesAtMostOneHundredArnsPerCall) {
  Serve({{200, R"({"tasks": [], "failures": []})", {}}});
  std::vector<std::string> arns;
  for (int i = 0; i < 250; ++i) arns.push_back("arn:task/" + std::to_string(i));
  auto list = client_->DescribeTasks("default", arns);
  ASSERT_TRUE(list.ok());
  auto sent = server_->requests();
  ASSERT_EQ(sent.size(), 3u);
  std::vector<std::size_t> sizes;
  for (const auto& r : sent) {
    sizes.push_back(ParseJson(r.body)->as_object().at("tasks").as_array().size());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{100, 100, 50}));
  EXPECT_EQ(client_->Counts().calls["DescribeTasks"], 3);
}

TEST_F(EcsClientTest, MissingTasksComeBackAsFailures) {
  Serve({{200, R"({"tasks": [], "failures": [{"arn": "arn:x", "reason": "MISSING"}]})", {}}});
  auto list = client_->DescribeTasks("default", {"arn:x"});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->failures.size(), 1u);
  EXPECT_EQ(list->failures[0].reason, "MISSING");
  EXPECT_EQ(list->failures[0].arn, "arn:x");
}

// The documented error types, each with its code and ECS's message kept.
TEST_F(EcsClientTest, ErrorsAreTypedAndKeepTheAwsMessage) {
  struct Row {
    int status;
    std::string type, message;
    Code code;
  };
  const std::vector<Row> rows = {
      {400, "ClientException", "Unable to find task definition 'outpost-prod-nope'.",
       Code::kInvalidArgument},
      {400, "com.amazonaws.ecs#InvalidParameterException", "subnets can not be empty.",
       Code::kInvalidArgument},
      {400, "ClusterNotFoundException", "Cluster not found.", Code::kNotFound},
      {400, "AccessDeniedException", "User is not authorized to perform: ecs:RunTask",
       Code::kPermissionDenied},
      {400, "PlatformUnknownException", "The specified platform version doesn't exist.",
       Code::kInvalidArgument},
      {400, "UnsupportedFeatureException", "The specified task isn't supported in this Region.",
       Code::kInvalidArgument},
  };
  for (const Row& row : rows) {
    next_ = 0;
    Serve({{row.status, Error(row.type, row.message), {}}});
    auto task = client_->RunTask(SomeRun());
    ASSERT_FALSE(task.ok()) << row.type;
    EXPECT_EQ(task.status().code(), row.code) << task.status().ToString();
    std::string bare =
        row.type.substr(row.type.rfind('#') == std::string::npos ? 0 : row.type.rfind('#') + 1);
    EXPECT_EQ(task.status().message(), "ECS RunTask: " + bare + ": " + row.message);
    EXPECT_EQ(server_->requests().size(), 1u) << row.type << " must not be retried";
  }
}

TEST_F(EcsClientTest, ThrottlingIsRetriedThenSucceeds) {
  Serve({{400, Error("ThrottlingException", "Rate exceeded"), {}},
         {400, Error("ThrottlingException", "Rate exceeded"), {}},
         {200, kDescribeTasksAnswer, {}}});
  auto list = client_->DescribeTasks("default", {"c5cba4eb"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(server_->requests().size(), 3u);
  EXPECT_EQ(client_->Counts().calls["DescribeTasks"], 1);
  EXPECT_EQ(client_->Counts().attempts, 3);
}

TEST_F(EcsClientTest, ThrottlingThatGoesOnIsUnavailableWithTheAwsMessage) {
  Serve({{400, Error("ThrottlingException", "Rate exceeded"), {}}});
  auto task = client_->RunTask(SomeRun());
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), Code::kUnavailable);
  EXPECT_NE(task.status().message().find("ThrottlingException: Rate exceeded"), std::string::npos)
      << task.status().message();
  EXPECT_EQ(server_->requests().size(), 5u);  // RetryPolicy::max_attempts
}

TEST_F(EcsClientTest, ServerExceptionIsRetried) {
  Serve({{500, Error("ServerException", "Service unavailable. Please try again later."), {}},
         {200, kRunTaskAnswer, {}}});
  auto task = client_->RunTask(SomeRun());
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(server_->requests().size(), 2u);
}

TEST_F(EcsClientTest, CapacityFailuresAreRetriedWithTheSameClientToken) {
  const std::string no_capacity =
      R"({"tasks": [], "failures": [{"arn": "arn:aws:ecs:us-east-1:1:container-instance/x",
          "reason": "RESOURCE:MEMORY"}]})";
  Serve({{200, no_capacity, {}}, {200, no_capacity, {}}, {200, kRunTaskAnswer, {}}});
  auto task = client_->RunTask(SomeRun());
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  auto sent = server_->requests();
  ASSERT_EQ(sent.size(), 3u);
  for (const auto& r : sent) {
    EXPECT_EQ(ParseJson(r.body)->as_object().at("clientToken").as_string(),
              "01JDZXKQ3J8V6W1N2P4R5S7T9V-1");
  }
}

TEST_F(EcsClientTest, CapacityThatNeverComesIsUnavailableNamingTheReason) {
  Serve(
      {{200,
        R"({"tasks": [], "failures": [{"reason": "Capacity is unavailable at this time. Please try again later or in a different availability zone"}]})",
        {}}});
  auto task = client_->RunTask(SomeRun());
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), Code::kUnavailable);
  EXPECT_NE(task.status().message().find("Capacity is unavailable at this time"), std::string::npos)
      << task.status().message();
}

TEST_F(EcsClientTest, OtherPlacementFailuresAreNotRetried) {
  Serve({{200, R"({"tasks": [], "failures": [{"arn": "arn:i", "reason": "AGENT"}]})", {}}});
  auto task = client_->RunTask(SomeRun());
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(task.status().message(), "ECS RunTask: failure AGENT (arn:i)");
  EXPECT_EQ(server_->requests().size(), 1u);
}

TEST_F(EcsClientTest, StoppedTaskReasonsAndContainerExitCodesParse) {
  // A Fargate task stopped by a failed pull, and one whose container was OOM-killed.
  auto list = ParseEcsTaskList(ParseJson(R"({"tasks": [
      {"taskArn": "arn:1", "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
       "stopCode": "TaskFailedToStart",
       "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/outpost-nope:latest: not found",
       "containers": [{"name": "claude", "lastStatus": "STOPPED"}]},
      {"taskArn": "arn:2", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
       "stoppedReason": "Essential container in task exited",
       "containers": [{"name": "claude", "lastStatus": "STOPPED", "exitCode": 137,
                       "reason": "OutOfMemoryError: Container killed due to memory usage"}],
       "tags": [{"key": "runId", "value": "01J"}]}]})")
                                   ->as_object());
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->tasks.size(), 2u);
  EXPECT_EQ(list->tasks[0].stop_code, "TaskFailedToStart");
  EXPECT_TRUE(list->tasks[0].stopped_reason.starts_with("CannotPullContainerError"));
  EXPECT_EQ(list->tasks[1].containers[0].exit_code, 137);
  EXPECT_EQ(list->tasks[1].tags.at("runId"), "01J");
}

TEST(EcsClientShapes, AMistypedMemberIsAnErrorNamingIt) {
  auto t = ParseEcsTask(ParseJson(R"({"taskArn": 5})")->as_object());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "ECS: task.taskArn is not a string");
  auto c = ParseEcsTask(ParseJson(R"({"containers": [{"exitCode": "1"}]})")->as_object());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "ECS: container.exitCode is not an integer");
}

TEST(EcsClientShapes, OverridesOverTheCapAreRefusedBeforeSending) {
  EcsRunTaskRequest r = SomeRun();
  r.environment.push_back({"BIG", std::string(8200, 'x')});
  auto body = EcsClient::RunTaskBody(r);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), Code::kInvalidArgument);
  EXPECT_NE(body.status().message().find("over ECS's limit of 8192"), std::string::npos);
  r = SomeRun();
  r.client_token = std::string(65, 'a');
  EXPECT_EQ(EcsClient::RunTaskBody(r).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace outpost::aws
