// ServerTest: the base fixture of the tests against a real `outpost serve`. Each test gets a fresh
// data dir (dir_, from MakeTempDir) and at most one server (server_, which the test or a derived
// SetUp starts with ServerProcess::Start(dir_, ...)). TearDown stops the server, kills every
// run process left under dir_ and removes it. A derived fixture that overrides SetUp or TearDown
// calls ServerTest's first or last respectively:
//
//   class EventsTest : public ServerTest {
//    protected:
//     void StartServer() { server_ = ServerProcess::Start(dir_, {{"OUTPOST_RUNNER", "process"}}); }
//   };
//
// Parameterised fixtures add ::testing::WithParamInterface<T>. (A separate header from
// server_fixture.h, which the benchmarks include without gtest.)
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tests/integration/server_fixture.h"

namespace outpost::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    if (dir_.empty()) return;  // SetUp failed first; KillRunsUnder("") would match every run
    KillRunsUnder(dir_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace outpost::testing
