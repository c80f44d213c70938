#include "http/envelope.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/ids.h"

namespace outpost::http {
namespace {

namespace json = boost::json;

Meta TestMeta() { return {"req-1", WallTime(std::chrono::milliseconds(1'700'000'000'123))}; }

TEST(HttpErrorFor, MapsEveryCode) {
  struct Row {
    Code code;
    int http;
    std::string_view name;
  };
  const Row table[] = {
      {Code::kInvalidArgument, 400, "VALIDATION_ERROR"},
      {Code::kUnauthenticated, 401, "AUTHENTICATION_ERROR"},
      {Code::kPermissionDenied, 403, "AUTHORIZATION_ERROR"},
      {Code::kNotFound, 404, "NOT_FOUND"},
      {Code::kConflict, 409, "CONFLICT"},
      {Code::kFailedPrecondition, 409, "CONFLICT"},
      {Code::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
      {Code::kResourceExhausted, 429, "RATE_LIMIT_EXCEEDED"},
      {Code::kUnavailable, 503, "SERVICE_UNAVAILABLE"},
      {Code::kInternal, 500, "INTERNAL_ERROR"},
      {Code::kOk, 200, ""},
  };
  for (const Row& row : table) {
    HttpError e = HttpErrorFor(row.code);
    EXPECT_EQ(e.http_status, row.http) << CodeName(row.code);
    EXPECT_EQ(e.code, row.name) << CodeName(row.code);
  }
}

TEST(Envelope, SuccessShape) {
  Response r = Success(201, json::object{{"runId", "x"}}, TestMeta());
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"success":true,"data":{"runId":"x"},
      "meta":{"requestId":"req-1","timestamp":"2023-11-14T22:13:20.123Z"}})"));
}

TEST(Envelope, PageAddsPagination) {
  Response r = SuccessPage(json::object{{"items", json::array{}}},
                           Pagination{std::nullopt, false, 20}, TestMeta());
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("meta").at("pagination"),
            json::parse(R"({"cursor":null,"hasMore":false,"limit":20})"));
  r = SuccessPage(json::object{}, Pagination{"c1", true, 5}, TestMeta());
  EXPECT_EQ(json::parse(r.body).at("meta").at("pagination"),
            json::parse(R"({"cursor":"c1","hasMore":true,"limit":5})"));
}

TEST(Envelope, ValidationErrorListsFields) {
  Response r = Error(Status::Invalid({{"agent", "required"}, {"task", "too long"}}), TestMeta());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"success":false,
      "error":{"code":"VALIDATION_ERROR","message":"Request validation failed",
               "details":{"errors":[{"path":"agent","message":"required"},
                                    {"path":"task","message":"too long"}]}},
      "meta":{"requestId":"req-1","timestamp":"2023-11-14T22:13:20.123Z"}})"));
}

TEST(Envelope, ErrorWithoutDetailsHasEmptyDetails) {
  Response r = Error(NotFound("Run not found: x"), TestMeta());
  EXPECT_EQ(r.status, 404);
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("error").at("message"), "Run not found: x");
  EXPECT_EQ(body.at("error").at("details"), json::object{});
}

TEST(Envelope, ConflictCarriesDetails) {
  Status s = Conflict("run already finished");
  s.WithDetail("currentStatus", "COMPLETED");
  Response r = Error(s, TestMeta());
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json::parse(r.body).at("error").at("details").at("currentStatus"), "COMPLETED");
}

TEST(Envelope, InternalErrorHidesItsMessage) {
  Status s = Internal("sqlite: disk I/O error at /secret/path");
  s.WithDetail("file", "/secret/path");
  Response r = Error(s, TestMeta());
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(json::parse(r.body).at("error").at("message"), "An unexpected error occurred");
}

TEST(Envelope, RateLimitSetsRetryAfter) {
  Status s(Code::kResourceExhausted, "slow down");
  s.WithDetail("retryAfterSeconds", 7);
  Response r = Error(s, TestMeta());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("Retry-After"), "7");
}

TEST(Envelope, TransportErrorWithExplicitCode) {
  Response r = ErrorWithCode(415, kUnsupportedMediaType, "use JSON", TestMeta());
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(json::parse(r.body).at("error").at("code"), "UNSUPPORTED_MEDIA_TYPE");
}

TEST(RequestId, AcceptsOnlyTheSafeAlphabet) {
  EXPECT_TRUE(IsValidRequestId("abc-DEF_1.2:3"));
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("a b"));
  EXPECT_FALSE(IsValidRequestId("a\r\nX-Evil: 1"));
  EXPECT_FALSE(IsValidRequestId("<script>"));
}

TEST(RequestId, KeepsAValidClientIdElseMakesAUlid) {
  WallTime now = WallTime(std::chrono::seconds(1'700'000'000));
  EXPECT_EQ(ChooseRequestId(std::string("client-1"), now), "client-1");
  EXPECT_TRUE(IsUlid(ChooseRequestId(std::nullopt, now)));
  EXPECT_TRUE(IsUlid(ChooseRequestId(std::string("bad id"), now)));
}

}  // namespace
}  // namespace outpost::http
