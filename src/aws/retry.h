// Retries of AWS calls: jittered exponential backoff for what AWS documents as transient —
// throttling (SlowDown, Throttling, ProvisionedThroughputExceededException,
// RequestLimitExceeded, ...), HTTP 429 and 5xx, and network failures — never for another 4xx.
//
// The protocol client decides what is transient by mapping it to kUnavailable (IsThrottlingCode
// and IsRetryableHttpStatus help); the Retrier only retries kUnavailable. When it gives up the
// result is kUnavailable naming the attempts and the last failure. The clock is injected (it
// bounds the elapsed budget and the backoffs sleep on it), so tests run the whole schedule on a
// SimulatedClock without sleeping.
//
// Thread-safety: a Retrier may be shared; Run is reentrant (the random source is per thread
// unless one is injected, which then must be thread-safe itself).
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace outpost::aws {

struct RetryPolicy {
  int max_attempts = 5;  // 1 + retries
  Millis base_delay{100};
  Millis max_delay{5'000};
  // No retry whose sleep would end later than this after the first attempt started.
  Millis max_elapsed{60'000};
};

// AWS error codes that mean "slow down" (S3, DynamoDB, EC2-style and generic ones).
bool IsThrottlingCode(std::string_view code);
// 429 and 5xx.
bool IsRetryableHttpStatus(int status);

class Retrier {
 public:
  // Backoffs sleep on `clock`. `random01` returns a value in [0, 1); null means a per-thread
  // Mersenne Twister.
  Retrier(RetryPolicy policy, const Clock& clock, std::function<double()> random01 = nullptr);

  // Calls `attempt` until it returns anything but kUnavailable or the policy is exhausted.
  template <class T>
  Result<T> Run(std::string_view what, const std::function<Result<T>()>& attempt) const {
    std::optional<Result<T>> last;
    Status st = RunLoop(what, [&] {
      last.emplace(attempt());
      return last->status();
    });
    if (st.ok()) return std::move(*last);
    return st;
  }
  Status RunStatus(std::string_view what, const std::function<Status()>& attempt) const {
    return RunLoop(what, attempt);
  }

  // The sleep before retry number `retry` (1-based): half of min(max_delay, base * 2^(retry-1))
  // plus a random part of the other half ("equal jitter").
  Millis Delay(int retry) const;
  const RetryPolicy& policy() const { return policy_; }

 private:
  Status RunLoop(std::string_view what, const std::function<Status()>& attempt) const;

  RetryPolicy policy_;
  const Clock& clock_;
  std::function<double()> random01_;
};

}  // namespace outpost::aws
