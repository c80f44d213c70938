// Fault injection, for tests of `outpost monitor` and `outpost validate` against a real server:
// a switch that makes chosen routes answer 5xx, answer late, or not answer at all.
//
// It exists only when `outpost serve` is started with the hidden flag --enable-fault-injection
// (env OUTPOST_ENABLE_FAULT_INJECTION=1); then, and only then, these routes are registered:
//   PUT /admin/faults     body {"errorRate":0..1, "statusCode":500..599, "latencyMs":0..60000,
//                               "routes":["/dispatch", ...], "unresponsive":bool}
//                         (every field optional; the body replaces the whole setting)
//   GET /admin/faults     the setting and how many requests it has hit
//   DELETE /admin/faults  back to no faults
// `routes` are route patterns as the router registered them ("/runs/{id}", "unmatched"); empty
// means every route. /admin/faults itself is never hit, so a fault can always be undone.
// errorRate picks requests deterministically (exactly that fraction of the matching ones, in
// arrival order), latencyMs delays the handler on its io thread, and unresponsive closes the
// connection without a byte of answer. Every change is logged at warning level.
#pragma once

#include <atomic>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/router.h"

namespace outpost::http {

struct FaultConfig {
  double error_rate = 0;
  int status_code = 503;
  int latency_ms = 0;
  std::vector<std::string> routes;  // empty: every route
  bool unresponsive = false;
  bool Active() const { return error_rate > 0 || latency_ms > 0 || unresponsive; }
};

// Validates a PUT /admin/faults body: kInvalidArgument listing every bad field (unknown ones
// included).
Result<FaultConfig> ParseFaultConfig(const boost::json::value& body);
boost::json::object FaultConfigToJson(const FaultConfig& config);

class FaultSwitch final : public RequestHook {
 public:
  // A request is delayed by latencyMs on `clock`, which must outlive the switch.
  explicit FaultSwitch(const Clock& clock = RealClock::Instance());

  void Set(FaultConfig config);
  FaultConfig Get() const;
  std::uint64_t hits() const { return hits_.load(); }

  std::optional<Response> Before(const Request& req, std::string_view route) override;

 private:
  const Clock& clock_;
  std::atomic<bool> active_{false};  // the cheap check on every request
  mutable std::mutex mu_;
  FaultConfig config_;         // guarded by mu_
  std::uint64_t matched_ = 0;  // guarded by mu_: requests the setting applied to
  std::atomic<std::uint64_t> hits_{0};
};

// Registers the /admin/faults routes and the switch's hook on `router`; returns the switch.
std::shared_ptr<FaultSwitch> EnableFaultInjection(Router& router, const Clock& clock);

}  // namespace outpost::http
