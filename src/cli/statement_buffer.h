// Collects input lines until statements end with ';'. It reads quotes and comments as the
// server's splitter does ('...' with '' escapes, E'...' with backslash escapes, "...",
// $tag$...$tag$, -- and nested /* */), so a ';' inside them never ends a statement.
// (The CLI can't use src/sql's lexer: that part sits on the server side.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kalam::cli {

class StatementBuffer {
 public:
  // Adds a line (without its newline) and returns the statements it completed, each
  // without its ';' and trimmed; statements of only whitespace and comments are dropped.
  // Text after the last ';' stays pending. Each character is scanned once.
  std::vector<std::string> AddLine(std::string_view line);
  // Whatever is pending, trimmed, and clears the buffer: the last statement of a script
  // may lack its ';'. Empty when only whitespace and comments are pending.
  std::string TakeRest();
  // True when nothing but whitespace is pending (the REPL then shows its first prompt).
  bool empty() const;
  void Clear();

 private:
  enum class State {
    kCode,
    kString,
    kEscapeString,
    kIdentifier,
    kDollar,
    kLineComment,
    kBlockComment
  };

  std::string pending_;  // the statement being read (everything before it was taken)
  size_t scanned_ = 0;   // pending_[0, scanned_) is scanned; the state holds after it
  State state_ = State::kCode;
  int comment_depth_ = 0;   // kBlockComment: /* */ nest
  std::string dollar_tag_;  // kDollar: "$tag$"
  bool has_sql_ = false;    // pending_ holds more than whitespace and comments
};

// Splits a whole script at top-level ';' (as AddLine does line by line), keeping a last
// statement without ';'.
std::vector<std::string> SplitStatements(std::string_view sql);

}  // namespace kalam::cli
