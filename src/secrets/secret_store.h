// SecretStore: where the server finds the values of named secrets (agents' API keys and the
// names a dispatch lists in `additionalSecrets`). Values only ever travel from here into a
// run's spec.json (0600) and the agent's environment; they are never logged.
//
// Implementations: EnvSecretStore (OUTPOST_SECRET_<NAME> variables), DirSecretStore (one 0600
// file per secret), ChainSecretStore (the first store that has the name wins) and, in its own
// library, AwsSecretStore (secrets/aws_secret_store.h: GetSecretValue of <prefix><NAME>, cached
// with a TTL; its vendor errors become kNotFound, kPermissionDenied or kUnavailable inside it).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outpost {

// The environment variables of secrets: OUTPOST_SECRET_<NAME>.
inline constexpr std::string_view kSecretEnvPrefix = "OUTPOST_SECRET_";

// A secret name as accepted from configuration and dispatches: ^[A-Z][A-Z0-9_]*$, 1 to 128.
bool ValidSecretName(std::string_view name);

// Thread-safe: every method may be called concurrently (implementations hold no mutable state,
// or guard it).
class SecretStore {
 public:
  virtual ~SecretStore() = default;
  // The value. kNotFound when the store has no such secret; kPermissionDenied when it exists
  // but may not be used (a file with loose permissions or another owner); kUnavailable when it
  // cannot be read now.
  virtual Result<std::string> Get(std::string_view name) const = 0;
  // Whether Get would succeed, without exposing the value.
  virtual bool Has(std::string_view name) const { return Get(name).ok(); }
  // Names of the secrets it holds, sorted (for diagnostics; never values).
  virtual std::vector<std::string> Names() const = 0;
};

// Secrets from environment variables OUTPOST_SECRET_<NAME>, taken from `env` (a copy of the
// process environment, injected so that tests need not touch the real one).
class EnvSecretStore : public SecretStore {
 public:
  explicit EnvSecretStore(const std::map<std::string, std::string>& env);
  Result<std::string> Get(std::string_view name) const override;
  std::vector<std::string> Names() const override;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Secrets as files `<dir>/<NAME>`: each must be a regular file of mode 0600 owned by this
// process's uid, else Get is kPermissionDenied naming the file (a secret others can read is
// already leaked; one they can write is not ours to trust). One trailing newline is stripped.
// Read on every Get, so a rotated file takes effect for the next run.
class DirSecretStore : public SecretStore {
 public:
  explicit DirSecretStore(std::string dir) : dir_(std::move(dir)) {}
  Result<std::string> Get(std::string_view name) const override;
  std::vector<std::string> Names() const override;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// Asks each store in order; the first that has the name answers. An error other than
// kNotFound stops the search (a broken file must not be shadowed silently).
class ChainSecretStore : public SecretStore {
 public:
  explicit ChainSecretStore(std::vector<std::unique_ptr<SecretStore>> stores)
      : stores_(std::move(stores)) {}
  Result<std::string> Get(std::string_view name) const override;
  std::vector<std::string> Names() const override;

 private:
  std::vector<std::unique_ptr<SecretStore>> stores_;
};

// The server's store: the environment first, then `dir` when non-empty.
std::unique_ptr<SecretStore> MakeSecretStore(const std::map<std::string, std::string>& env,
                                             const std::string& dir);

}  // namespace outpost
