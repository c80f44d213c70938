// Every exchange goes through Call(): sign with the clock's current time (a retry re-signs),
// send, and map a non-2xx answer through MapDynamoDbError inside the retry loop, so that
// throttling and 5xx are retried and nothing else is. A conditional write that is retried after
// a lost response may fail its condition against its own first attempt: the stores above, which
// know what they wrote, tell the two apart.
#include "aws/dynamodb_client.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "aws/http.h"
#include "common/json_util.h"

namespace outpost::aws {
namespace json = boost::json;

namespace ddb {

json::object S(std::string_view s) { return {{"S", s}}; }

json::object N(std::int64_t n) { return {{"N", std::to_string(n)}}; }

std::optional<std::string> GetS(const Item& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->value().is_object()) return std::nullopt;
  auto s = GetString(it->value().get_object(), "S");
  return s;
}

std::optional<std::int64_t> GetN(const Item& item, std::string_view name) {
  auto it = item.find(name);
  if (it == item.end() || !it->value().is_object()) return std::nullopt;
  auto text = GetString(it->value().get_object(), "N");
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(text->c_str(), &end, 10);
  if (end != text->c_str() + text->size()) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

}  // namespace ddb

namespace {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";

Code CodeFor(int http_status, std::string_view type, std::string_view message) {
  static const std::map<std::string, Code, std::less<>> kCodes = {
      {"ConditionalCheckFailedException", Code::kConflict},
      {"TransactionConflictException", Code::kConflict},
      {"ResourceNotFoundException", Code::kFailedPrecondition},
      {"ResourceInUseException", Code::kConflict},
      {"InternalServerError", Code::kUnavailable},
      {"ServiceUnavailable", Code::kUnavailable},
      {"UnrecognizedClientException", Code::kPermissionDenied},
      {"AccessDeniedException", Code::kPermissionDenied},
      {"InvalidSignatureException", Code::kPermissionDenied},
      {"IncompleteSignatureException", Code::kPermissionDenied},
      {"MissingAuthenticationTokenException", Code::kPermissionDenied},
      {"ExpiredTokenException", Code::kPermissionDenied},
      {"ItemCollectionSizeLimitExceededException", Code::kResourceExhausted},
      {"SerializationException", Code::kInternal},  // we sent something malformed
  };
  if (IsThrottlingCode(type) || IsRetryableHttpStatus(http_status)) return Code::kUnavailable;
  if (type == "ValidationException") {
    return message.find("Item size") != std::string_view::npos ? Code::kPayloadTooLarge
                                                               : Code::kInvalidArgument;
  }
  if (auto it = kCodes.find(type); it != kCodes.end()) return it->second;
  return http_status >= 400 && http_status < 500 ? Code::kInvalidArgument : Code::kInternal;
}

void AddExpression(json::object& request, std::string_view key, const Expression& e) {
  if (e.text.empty()) return;
  request[key] = e.text;
  auto merge = [&](std::string_view name, const json::object& from) {
    if (from.empty()) return;
    json::value& to = request[name];
    if (!to.is_object()) to = json::object();
    for (const auto& kv : from) to.get_object()[kv.key()] = kv.value();
  };
  merge("ExpressionAttributeNames", e.names);
  merge("ExpressionAttributeValues", e.values);
}

Result<ItemPage> ReadPage(const json::object& answer) {
  ItemPage page;
  if (auto it = answer.find("Items"); it != answer.end()) {
    if (!it->value().is_array()) return Internal("DynamoDB: Items is not a list");
    for (const auto& v : it->value().get_array()) {
      if (!v.is_object()) return Internal("DynamoDB: an item is not a map");
      page.items.push_back(v.get_object());
    }
  }
  if (auto it = answer.find("LastEvaluatedKey"); it != answer.end() && it->value().is_object()) {
    page.last_key = it->value().get_object();
  }
  return page;
}

bool ValidRegion(const std::string& r) {
  return !r.empty() && std::all_of(r.begin(), r.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

}  // namespace

Status MapDynamoDbError(std::string_view what, const net::HttpResponse& r) {
  std::string type, message;
  if (auto doc = ParseJson(r.body); doc.ok() && doc->is_object()) {
    const json::object& o = doc->get_object();
    type = GetString(o, "__type").value_or("");
    message = GetString(o, "message").value_or(GetString(o, "Message").value_or(""));
  }
  if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  std::string text = std::string(what) + ": ";
  text += type.empty() ? "HTTP " + std::to_string(r.status) : type;
  if (!message.empty()) text += ": " + message;
  return Status(CodeFor(r.status, type, message), text);
}

Result<std::unique_ptr<DynamoDbClient>> DynamoDbClient::Create(DynamoDbClientOptions options,
                                                               net::HttpSender sender,
                                                               const Clock& clock) {
  if (!ValidRegion(options.region)) {
    return InvalidArgument("DynamoDB: bad region '" + options.region + "'");
  }
  std::string endpoint = options.endpoint.empty()
                             ? "https://dynamodb." + options.region + ".amazonaws.com"
                             : options.endpoint;
  auto origin = net::ParseUrl(endpoint);
  if (!origin.ok()) return InvalidArgument("DynamoDB endpoint: " + origin.status().message());
  if (origin->path != "/") {
    return InvalidArgument("DynamoDB endpoint '" + endpoint + "' must not have a path");
  }
  if (!sender) return InvalidArgument("DynamoDB: no HTTP sender");
  return std::unique_ptr<DynamoDbClient>(
      new DynamoDbClient(std::move(options), *origin, std::move(sender), clock));
}

DynamoDbClient::DynamoDbClient(DynamoDbClientOptions options, net::Url origin,
                               net::HttpSender sender, const Clock& clock)
    : options_(std::move(options)),
      origin_(std::move(origin)),
      sender_(std::move(sender)),
      clock_(clock),
      retrier_(options_.retry, clock) {}

Result<json::object> DynamoDbClient::Call(std::string_view op, const json::object& request,
                                          std::string_view table) const {
  std::string what = "DynamoDB " + std::string(op);
  if (!table.empty()) what += " " + std::string(table);
  const std::string body = ToJson(request);
  const SigningOptions signing = SigningOptions::ForService(options_.region, "dynamodb");
  {
    std::lock_guard lock(counts_mu_);
    ++counts_.calls[std::string(op)];
  }
  return retrier_.Run<json::object>(what, [&]() -> Result<json::object> {
    {
      std::lock_guard lock(counts_mu_);
      ++counts_.attempts;
    }
    SignableRequest signable{"POST",
                             "/",
                             {},
                             {{"Content-Type", "application/x-amz-json-1.0"},
                              {"X-Amz-Target", std::string(kTargetPrefix) + std::string(op)}},
                             body};
    auto wire = BuildSignedRequest(origin_, std::move(signable), options_.credentials, signing,
                                   clock_.Now());
    if (!wire.ok()) return wire.status();
    auto response = sender_(*wire);
    if (!response.ok()) {
      return Status(response.status().code(), what + ": " + response.status().message());
    }
    if (response->status / 100 != 2) return MapDynamoDbError(what, *response);
    auto doc = ParseJson(response->body, 64);
    if (!doc.ok() || !doc->is_object()) return Internal(what + ": malformed answer");
    return std::move(doc->get_object());
  });
}

std::int64_t DynamoDbClient::CallCounts::total() const {
  std::int64_t n = 0;
  for (const auto& [op, count] : calls) n += count;
  return n;
}

DynamoDbClient::CallCounts DynamoDbClient::Counts() const {
  std::lock_guard lock(counts_mu_);
  return counts_;
}

Result<TableInfo> DynamoDbClient::DescribeTable(std::string_view table) const {
  auto answer = Call("DescribeTable", {{"TableName", table}}, table);
  if (answer.status().code() == Code::kFailedPrecondition) {
    return NotFound("DynamoDB table '" + std::string(table) + "' does not exist");
  }
  if (!answer.ok()) return answer.status();
  TableInfo info;
  auto t = answer->find("Table");
  if (t == answer->end() || !t->value().is_object()) {
    return Internal("DynamoDB DescribeTable " + std::string(table) + ": no Table in the answer");
  }
  const json::object& desc = t->value().get_object();
  info.status = GetString(desc, "TableStatus").value_or("");
  if (auto g = desc.find("GlobalSecondaryIndexes"); g != desc.end() && g->value().is_array()) {
    for (const auto& index : g->value().get_array()) {
      if (!index.is_object()) continue;
      info.index_names.push_back(GetString(index.get_object(), "IndexName").value_or(""));
      info.index_statuses.push_back(GetString(index.get_object(), "IndexStatus").value_or(""));
    }
  }
  return info;
}

Status DynamoDbClient::CreateTable(const json::object& request) const {
  std::string table = GetString(request, "TableName").value_or("");
  return Call("CreateTable", request, table).status();
}

Status DynamoDbClient::DeleteTable(std::string_view table) const {
  return Call("DeleteTable", {{"TableName", table}}, table).status();
}

Status DynamoDbClient::PutItem(std::string_view table, const ddb::Item& item,
                               const Expression& condition) const {
  json::object request{{"TableName", table}, {"Item", item}};
  AddExpression(request, "ConditionExpression", condition);
  return Call("PutItem", request, table).status();
}

Result<std::optional<ddb::Item>> DynamoDbClient::GetItem(std::string_view table,
                                                         const ddb::Item& key,
                                                         bool consistent) const {
  json::object request{{"TableName", table}, {"Key", key}, {"ConsistentRead", consistent}};
  auto answer = Call("GetItem", request, table);
  if (!answer.ok()) return answer.status();
  auto it = answer->find("Item");
  if (it == answer->end() || !it->value().is_object()) return std::optional<ddb::Item>();
  return std::optional<ddb::Item>(it->value().get_object());
}

Status DynamoDbClient::DeleteItem(std::string_view table, const ddb::Item& key,
                                  const Expression& condition) const {
  json::object request{{"TableName", table}, {"Key", key}};
  AddExpression(request, "ConditionExpression", condition);
  return Call("DeleteItem", request, table).status();
}

Result<ItemPage> DynamoDbClient::Query(const QueryRequest& q) const {
  json::object request{{"TableName", q.table}, {"ScanIndexForward", q.forward}};
  if (!q.index.empty()) request["IndexName"] = q.index;
  AddExpression(request, "KeyConditionExpression", q.key_condition);
  if (q.limit > 0) request["Limit"] = q.limit;
  if (q.start_key) request["ExclusiveStartKey"] = *q.start_key;
  if (!q.projection.empty()) request["ProjectionExpression"] = q.projection;
  if (q.consistent) request["ConsistentRead"] = true;
  auto answer = Call("Query", request, q.table);
  if (!answer.ok()) return answer.status();
  return ReadPage(*answer);
}

Result<ItemPage> DynamoDbClient::Scan(const ScanRequest& s) const {
  json::object request{{"TableName", s.table}};
  AddExpression(request, "FilterExpression", s.filter);
  if (s.limit > 0) request["Limit"] = s.limit;
  if (s.start_key) request["ExclusiveStartKey"] = *s.start_key;
  if (!s.projection.empty()) request["ProjectionExpression"] = s.projection;
  auto answer = Call("Scan", request, s.table);
  if (!answer.ok()) return answer.status();
  return ReadPage(*answer);
}

}  // namespace outpost::aws
