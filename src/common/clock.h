#pragma once

#include <chrono>
#include <cstdint>

namespace kalam {

// Microseconds since the Unix epoch, wall clock.
inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline int64_t NowSeconds() { return NowMicros() / 1000000; }

}  // namespace kalam
