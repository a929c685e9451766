// The server's most recent log lines, kept in memory for system.server_logs (and the admin
// console's log page): a ring of the last kRecentLogLines lines the logger wrote, beside
// its usual output. Process-wide, as the logger is.
#pragma once

#include <spdlog/sinks/sink.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kalam {

inline constexpr size_t kRecentLogLines = 500;

struct LogLine {
  int64_t logged_at = 0;  // microseconds since the epoch
  std::string level;      // trace | debug | info | warn | error | critical
  std::string message;
};

// The sink to add to the logger. The same one on every call.
std::shared_ptr<spdlog::sinks::sink> RecentLogSink();
// The lines it holds, oldest first.
std::vector<LogLine> RecentLogLines();

}  // namespace kalam
