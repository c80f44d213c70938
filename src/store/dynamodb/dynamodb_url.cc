#include "store/dynamodb/dynamodb_url.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "aws/http.h"
#include "aws/service_url.h"
#include "aws/sigv4.h"

namespace outpost::dynamodb {
namespace {

constexpr std::size_t kMaxPrefix = 200;  // DynamoDB table names: 3..255 characters

Status Bad(std::string_view url, const std::string& why) {
  return InvalidArgument("store URL '" + std::string(url) + "': " + why);
}

bool TableNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

Result<std::map<std::string, std::string>> ParseQuery(std::string_view url,
                                                      std::string_view query) {
  auto params = aws::ParseServiceUrlQuery(query, {"region", "endpoint", "createTables"});
  if (!params.ok()) return Bad(url, params.status().message());
  return params;
}

}  // namespace

std::string DynamoDbLocation::ToUrl() const {
  std::string url = "dynamodb://" + table_prefix + "?region=" + region;
  if (!endpoint.empty()) url += "&endpoint=" + endpoint;
  return url;
}

Result<DynamoDbLocation> ParseDynamoDbUrl(std::string_view url, const aws::EnvMap& env) {
  constexpr std::string_view kScheme = "dynamodb://";
  constexpr std::string_view kUsage = "expected dynamodb://TABLE_PREFIX[?region=...&endpoint=...]";
  if (!url.starts_with(kScheme)) return Bad(url, std::string(kUsage));
  std::string_view rest = url.substr(kScheme.size());
  std::size_t q = rest.find('?');
  std::string_view prefix = rest.substr(0, q);
  std::string_view query = q == std::string_view::npos ? "" : rest.substr(q + 1);
  if (prefix.find('@') != std::string_view::npos) {
    return Bad(url,
               "credentials do not belong in the URL; use AWS_ACCESS_KEY_ID/"
               "AWS_SECRET_ACCESS_KEY or AWS_PROFILE");
  }
  if (prefix.empty()) return Bad(url, "no table prefix (" + std::string(kUsage) + ")");
  if (prefix.size() > kMaxPrefix || !std::all_of(prefix.begin(), prefix.end(), TableNameChar)) {
    return Bad(url,
               "table prefix '" + std::string(prefix) + "' must be 1 to 200 of A-Z a-z 0-9 _ - .");
  }
  auto params = ParseQuery(url, query);
  if (!params.ok()) return params.status();
  DynamoDbLocation loc;
  loc.table_prefix = std::string(prefix);
  loc.endpoint = (*params)["endpoint"];
  while (loc.endpoint.ends_with('/')) loc.endpoint.pop_back();
  if (!loc.endpoint.empty() && !loc.endpoint.starts_with("http://") &&
      !loc.endpoint.starts_with("https://")) {
    return Bad(url, "endpoint must be http://host[:port] or https://host[:port]");
  }
  const std::string create = (*params)["createTables"];
  if (!create.empty() && create != "true" && create != "false") {
    return Bad(url, "createTables must be true or false, not '" + create + "'");
  }
  loc.create_tables = create == "true";
  loc.region = (*params)["region"];
  if (loc.region.empty()) {
    auto region = aws::ResolveRegion(env);
    if (region.ok()) {
      loc.region = *region;
    } else if (!loc.endpoint.empty()) {
      loc.region = "us-east-1";  // local servers (dynalite, DynamoDB Local) do not care
    } else {
      return FailedPrecondition("store URL '" + std::string(url) + "': add ?region=... (" +
                                region.status().message() + ")");
    }
  }
  return loc;
}

Result<ConnectedStore> ConnectDynamoDb(std::string_view url, const aws::EnvMap& env,
                                       const Clock& clock, const DynamoDbConnection& connection) {
  auto location = ParseDynamoDbUrl(url, env);
  if (!location.ok()) return location.status();
  auto credentials = aws::ResolveCredentials(env);
  if (!credentials.ok()) {
    return Status(credentials.status().code(),
                  "store " + location->ToUrl() + ": " + credentials.status().message());
  }
  aws::DynamoDbClientOptions o;
  o.region = location->region;
  o.endpoint = location->endpoint;
  o.credentials = *credentials;
  o.retry = connection.retry;
  net::HttpSender sender = connection.sender;
  if (!sender) sender = aws::MakeHttpSender(env, {std::chrono::seconds(20), 16u << 20});
  auto client = aws::DynamoDbClient::Create(o, std::move(sender), clock);
  if (!client.ok()) return client.status();
  return ConnectedStore{std::move(*location), std::move(client).value()};
}

}  // namespace outpost::dynamodb
