#include "pgwire/command_tag.h"

#include "common/sql_lexer.h"
#include "common/text.h"

namespace kalam::pgwire {

std::vector<std::string> LeadingWords(std::string_view sql, size_t count) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < sql.size() && words.size() < count) {
    if (IsAsciiSpace(sql[i])) {
      ++i;
    } else if (auto span = sql::SpanAt(sql, i); span && sql::IsComment(span->kind)) {
      i = span->end;
    } else if (sql::IsIdentifierStart(sql[i])) {
      const size_t start = i;
      while (i < sql.size() && sql::IsIdentifierChar(sql[i])) ++i;
      words.push_back(Upper(sql.substr(start, i - start)));
    } else {
      break;
    }
  }
  return words;
}

std::string CommandTag(std::string_view statement, uint64_t rows, bool returned_rows) {
  const std::vector<std::string> words = LeadingWords(statement, 3);
  const std::string first = words.empty() ? std::string() : words[0];
  const std::string n = std::to_string(rows);
  if (first == "INSERT") return "INSERT 0 " + n;
  if (first == "UPDATE" || first == "DELETE") return first + " " + n;
  if (first == "BEGIN" || first == "START") return "BEGIN";
  if (first == "COMMIT" || first == "END") return "COMMIT";
  if (first == "ROLLBACK" || first == "ABORT") return "ROLLBACK";
  if (returned_rows) return "SELECT " + n;
  if ((first == "CREATE" || first == "DROP" || first == "ALTER") && words.size() > 1) {
    // CREATE USER TABLE / SHARED TABLE / STREAM TABLE are all CREATE TABLE.
    if (words.size() > 2 && words[2] == "TABLE" &&
        (words[1] == "USER" || words[1] == "SHARED" || words[1] == "STREAM")) {
      return first + " TABLE";
    }
    return first + " " + words[1];
  }
  return first;
}

}  // namespace kalam::pgwire
