#include "common/recent_logs.h"

#include <spdlog/sinks/ringbuffer_sink.h>

#include <chrono>

namespace kalam {

namespace {

std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> Ring() {
  static const auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(kRecentLogLines);
  return ring;
}

}  // namespace

std::shared_ptr<spdlog::sinks::sink> RecentLogSink() { return Ring(); }

std::vector<LogLine> RecentLogLines() {
  std::vector<LogLine> lines;
  for (const auto& message : Ring()->last_raw()) {
    const auto level = spdlog::level::to_string_view(message.level);
    lines.push_back({std::chrono::duration_cast<std::chrono::microseconds>(message.time.time_since_epoch()).count(),
                     std::string(level.data(), level.size()),
                     std::string(message.payload.data(), message.payload.size())});
  }
  return lines;
}

}  // namespace kalam
