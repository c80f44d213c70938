// Test support of the dynamodb:// backend's tests: one dynalite per test binary (started on
// first use, stopped by pid at exit), fresh table prefixes, and stores opened on them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "aws/dynalite_fixture.h"
#include "store/dynamodb/dynamodb_run_store.h"

namespace outpost::dynamodb::testing_env {

using aws::testing::Dynalite;

inline Dynalite& Server() {
  static Dynalite server;  // stopped (by pid) at exit
  return server;
}

inline aws::EnvMap Env() {
  return {{"AWS_ACCESS_KEY_ID", Dynalite::kAccessKey},
          {"AWS_SECRET_ACCESS_KEY", Dynalite::kSecretKey},
          {"HOME", "/nonexistent"}};
}

inline std::string UniquePrefix() {
  static std::atomic<int> n{0};
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

inline std::string UrlFor(const std::string& prefix) {
  return "dynamodb://" + prefix + "?region=us-east-1&endpoint=" + Server().endpoint();
}

inline DynamoDbRunStoreOptions TestOptions(bool create = true) {
  DynamoDbRunStoreOptions o;
  o.create_tables = create;
  return o;
}

inline std::unique_ptr<DynamoDbRunStore> OpenStore(
    const std::string& prefix, const Clock& clock,
    DynamoDbRunStoreOptions options = TestOptions()) {
  if (!Server().ok()) {
    ADD_FAILURE() << "dynalite: " << Server().error();
    return nullptr;
  }
  auto store = DynamoDbRunStore::Open(UrlFor(prefix), Env(), clock, std::move(options));
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(*store);
}

}  // namespace outpost::dynamodb::testing_env
