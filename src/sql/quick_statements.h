// Which statements answer quickly: a door runs those on its I/O thread instead of handing
// them to the statement pool and back, which costs two thread wake-ups — more than a point
// read or a one-row INSERT takes.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kalam::sql {

// A statement's text with its literals as '?': statements of one shape cost alike, whatever
// their values (a point SELECT by any key).
std::string StatementShape(std::string_view statement);

// Per statement text or shape, whether its latest runs were all quick. Not thread-safe:
// each connection (or I/O thread) keeps its own.
class QuickStatements {
 public:
  using Clock = std::chrono::steady_clock;

  // Whether the last kRunsToInline runs of key each took at most kQuick.
  bool IsQuick(const std::string& key) const;
  // Records a run. A slow one sends key back to the pool for as many runs again.
  void Note(const std::string& key, Clock::duration took);

  static constexpr int kRunsToInline = 4;
  static constexpr auto kQuick = std::chrono::microseconds(300);
  static constexpr size_t kMaxKeys = 256;  // past it the record starts again

 private:
  // How many of the latest runs were quick; negative after a slow one.
  std::unordered_map<std::string, int> runs_;
};

}  // namespace kalam::sql
