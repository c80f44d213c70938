#include "common/clock.h"

namespace outpost {

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

}  // namespace outpost
