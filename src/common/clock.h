// Clock: wall and monotonic time, injected into everything with a deadline, lease or TTL.
// RealClock reads the system; SimulatedClock is advanced by tests (thread-safe).
#pragma once

#include <atomic>
#include <chrono>

namespace outpost {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Mono() const = 0;
};

class RealClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Mono() const override { return std::chrono::steady_clock::now(); }
  static RealClock& Instance();
};

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)))
      : wall_ns_(start.time_since_epoch().count()), mono_ns_(0) {}
  WallTime Now() const override { return WallTime(WallTime::duration(wall_ns_.load())); }
  MonoTime Mono() const override { return MonoTime(std::chrono::nanoseconds(mono_ns_.load())); }
  void Advance(std::chrono::nanoseconds d) {
    wall_ns_ += std::chrono::duration_cast<WallTime::duration>(d).count();
    mono_ns_ += d.count();
  }

 private:
  std::atomic<WallTime::rep> wall_ns_;
  std::atomic<std::int64_t> mono_ns_;
};

}  // namespace outpost
