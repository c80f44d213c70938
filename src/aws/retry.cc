// Equal jitter rather than full jitter: every retry still waits at least half of its backoff,
// so a burst of throttled callers spreads out without some of them retrying immediately.
#include "aws/retry.h"

#include <algorithm>
#include <random>
#include <string>

namespace outpost::aws {

bool IsThrottlingCode(std::string_view code) {
  static constexpr std::string_view kCodes[] = {
      "SlowDown",
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottled",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceeded",
      "ProvisionedThroughputExceededException",
      "RequestLimitExceeded",
      "TransactionInProgressException",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "EC2ThrottledException",
      "PriorRequestNotComplete",
  };
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

bool IsRetryableHttpStatus(int status) { return status == 429 || (status >= 500 && status <= 599); }

Retrier::Retrier(RetryPolicy policy, const Clock& clock, std::function<double()> random01)
    : policy_(policy), clock_(clock), random01_(std::move(random01)) {
  if (!random01_) {
    random01_ = [] {
      thread_local std::mt19937_64 gen{std::random_device{}()};
      return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
    };
  }
}

Millis Retrier::Delay(int retry) const {
  Millis cap = policy_.base_delay;
  for (int i = 1; i < retry && cap < policy_.max_delay; ++i) cap *= 2;
  cap = std::min(cap, policy_.max_delay);
  double r = std::clamp(random01_(), 0.0, 1.0);
  return cap / 2 +
         Millis(static_cast<Millis::rep>(static_cast<double>((cap - cap / 2).count()) * r));
}

Status Retrier::RunLoop(std::string_view what, const std::function<Status()>& attempt) const {
  MonoTime start = clock_.Mono();
  for (int n = 1;; ++n) {
    Status st = attempt();
    if (st.code() != Code::kUnavailable) return st;
    Millis delay = Delay(n);
    bool out_of_time = clock_.Mono() - start + delay > policy_.max_elapsed;
    if (n >= policy_.max_attempts || out_of_time) {
      return Unavailable(std::string(what) + ": gave up after " + std::to_string(n) +
                         (n == 1 ? " attempt" : " attempts") + ": " + st.message());
    }
    clock_.SleepFor(delay);
  }
}

}  // namespace outpost::aws
