#include "secrets/aws_secret_store.h"

#include <set>

#include "aws/credentials.h"
#include "aws/http.h"

namespace outpost {

AwsSecretStore::AwsSecretStore(std::unique_ptr<aws::SecretsManagerClient> client,
                               AwsSecretStoreOptions options, const Clock& clock)
    : client_(std::move(client)), options_(std::move(options)), clock_(clock) {}

Result<std::string> AwsSecretStore::Get(std::string_view name) const {
  if (!ValidSecretName(name)) return NotFound("invalid secret name");
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(name);
    if (it != cache_.end() && clock_.Mono() < it->second.expires) {
      ++stats_.hits;
      if (it->second.value) return *it->second.value;
      return NotFound(it->second.not_found_message);
    }
    ++stats_.misses;
  }
  // Outside the lock: a slow or retried call must not hold up the other names.
  const std::string id = options_.prefix + std::string(name);
  auto answer = client_->GetSecretValue({id, "", ""});
  Entry entry;
  entry.expires = clock_.DeadlineAfter(options_.cache_ttl);
  if (answer.ok()) {
    std::string value = answer->secret_string ? std::move(*answer->secret_string)
                                              : std::move(*answer->secret_binary);
    if (value.empty()) {
      entry.not_found_message =
          "secret " + std::string(name) + " (Secrets Manager " + id + ") is empty";
    } else {
      entry.value = std::move(value);
    }
  } else if (answer.status().code() == Code::kNotFound) {
    entry.not_found_message = "secret " + std::string(name) + ": " + answer.status().message();
  } else {
    return answer.status();  // not cached
  }
  Result<std::string> result = entry.value ? Result<std::string>(*entry.value)
                                           : Result<std::string>(NotFound(entry.not_found_message));
  if (options_.cache_ttl.count() > 0) {
    std::lock_guard lock(mu_);
    cache_[std::string(name)] = std::move(entry);
  }
  return result;
}

std::vector<std::string> AwsSecretStore::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, entry] : cache_) {
    if (entry.value) out.push_back(name);
  }
  return out;
}

AwsSecretStore::Stats AwsSecretStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Result<std::unique_ptr<AwsSecretStore>> OpenAwsSecretStore(const AwsSecretStoreConfig& config,
                                                           const aws::EnvMap& env,
                                                           const Clock& clock) {
  aws::SecretsManagerClientOptions o;
  if (config.region.empty()) {
    auto region = aws::ResolveRegion(env);
    if (!region.ok()) {
      return FailedPrecondition("secrets: no region: set [secrets] region or AWS_REGION (" +
                                region.status().message() + ")");
    }
    o.region = *region;
  } else {
    o.region = config.region;
  }
  o.endpoint = config.endpoint;
  auto credentials = aws::ResolveCredentials(env);
  if (!credentials.ok())
    return Status(credentials.status().code(), "secrets: " + credentials.status().message());
  o.credentials = *credentials;
  auto client = aws::SecretsManagerClient::Create(
      std::move(o), aws::MakeHttpSender(env, {std::chrono::seconds(20), 1u << 20}), clock);
  if (!client.ok()) return Status(client.status().code(), "secrets: " + client.status().message());
  return std::make_unique<AwsSecretStore>(
      std::move(*client),
      AwsSecretStoreOptions{config.prefix, Millis(std::int64_t{config.cache_ttl_seconds} * 1000)},
      clock);
}

}  // namespace outpost
