#include "cli/statement_buffer.h"

namespace kalam::cli {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9') || c == '$'; }

std::string Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return std::string(text);
}

// The "$tag$" starting at text[pos] (a '$'), or "" when none does. The tag may be empty.
std::string DollarTagAt(std::string_view text, size_t pos) {
  size_t end = pos + 1;
  if (end < text.size() && IsIdentifierStart(text[end])) {
    while (end < text.size() && IsIdentifierChar(text[end]) && text[end] != '$') ++end;
  }
  if (end < text.size() && text[end] == '$') return std::string(text.substr(pos, end - pos + 1));
  return "";
}

}  // namespace

std::vector<std::string> StatementBuffer::AddLine(std::string_view line) {
  pending_ += line;
  pending_ += '\n';  // every line ends here, so looking one character ahead never fails
  std::vector<std::string> done;
  size_t start = 0;  // where the current statement begins in pending_
  const std::string_view text = pending_;
  size_t pos = scanned_;
  while (pos < text.size()) {
    const char c = text[pos];
    const char next = pos + 1 < text.size() ? text[pos + 1] : '\0';
    switch (state_) {
      case State::kCode: {
        const bool boundary = pos == start || !IsIdentifierChar(text[pos - 1]);
        if (c == ';') {
          if (has_sql_) done.push_back(Trim(text.substr(start, pos - start)));
          start = pos + 1;
          has_sql_ = false;
        } else if (c == '-' && next == '-') {
          state_ = State::kLineComment;
          ++pos;
        } else if (c == '/' && next == '*') {
          state_ = State::kBlockComment;
          comment_depth_ = 1;
          ++pos;
        } else if (!IsSpace(c)) {
          has_sql_ = true;
          if (c == '\'') {
            const bool escape = pos > start && (text[pos - 1] == 'E' || text[pos - 1] == 'e') &&
                                (pos - 1 == start || !IsIdentifierChar(text[pos - 2]));
            state_ = escape ? State::kEscapeString : State::kString;
          } else if (c == '"') {
            state_ = State::kIdentifier;
          } else if (c == '$' && boundary) {
            dollar_tag_ = DollarTagAt(text, pos);
            if (!dollar_tag_.empty()) {
              state_ = State::kDollar;
              pos += dollar_tag_.size() - 1;
            }
          }
        }
        break;
      }
      case State::kString:
      case State::kEscapeString:
        if (state_ == State::kEscapeString && c == '\\') {
          ++pos;  // the escaped character
        } else if (c == '\'') {
          if (next == '\'') {
            ++pos;
          } else {
            state_ = State::kCode;
          }
        }
        break;
      case State::kIdentifier:
        if (c == '"') {
          if (next == '"') {
            ++pos;
          } else {
            state_ = State::kCode;
          }
        }
        break;
      case State::kDollar:
        if (c == '$' && text.substr(pos, dollar_tag_.size()) == dollar_tag_) {
          pos += dollar_tag_.size() - 1;
          state_ = State::kCode;
        }
        break;
      case State::kLineComment:
        if (c == '\n') state_ = State::kCode;
        break;
      case State::kBlockComment:
        if (c == '/' && next == '*') {
          ++comment_depth_;
          ++pos;
        } else if (c == '*' && next == '/') {
          if (--comment_depth_ == 0) state_ = State::kCode;
          ++pos;
        }
        break;
    }
    ++pos;
  }
  pending_.erase(0, start);
  scanned_ = pending_.size();
  return done;
}

std::string StatementBuffer::TakeRest() {
  std::string rest = has_sql_ ? Trim(pending_) : std::string();
  Clear();
  return rest;
}

bool StatementBuffer::empty() const { return Trim(pending_).empty(); }

void StatementBuffer::Clear() {
  pending_.clear();
  scanned_ = 0;
  state_ = State::kCode;
  comment_depth_ = 0;
  dollar_tag_.clear();
  has_sql_ = false;
}

std::vector<std::string> SplitStatements(std::string_view sql) {
  StatementBuffer buffer;
  std::vector<std::string> statements;
  size_t begin = 0;
  while (begin <= sql.size()) {
    size_t end = sql.find('\n', begin);
    if (end == std::string_view::npos) end = sql.size();
    for (std::string& s : buffer.AddLine(sql.substr(begin, end - begin))) {
      statements.push_back(std::move(s));
    }
    begin = end + 1;
  }
  if (std::string rest = buffer.TakeRest(); !rest.empty()) statements.push_back(std::move(rest));
  return statements;
}

}  // namespace kalam::cli
