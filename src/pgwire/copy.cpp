#include "pgwire/copy.h"

#include <vector>

#include "common/sql_lexer.h"
#include "common/text.h"
#include "pgwire/command_tag.h"
#include "pgwire/protocol.h"

namespace kalam::pgwire {

namespace {

using sql::Token;
using sql::TokenKind;

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == TokenKind::kWord && EqualsIgnoreCase(t.text, word);
}
bool IsSymbol(const Token& t, char c) { return t.kind == TokenKind::kSymbol && t.text.size() == 1 && t.text[0] == c; }

Status Invalid(const std::string& why) { return {Code::kInvalidSql, why}; }

// One option of the list after TO STDOUT, new style (FORMAT csv, HEADER true) or old
// (CSV, HEADER, DELIMITER 'x', NULL 'x'). i: its first token; moves past it.
Status ReadOption(const std::vector<Token>& tokens, size_t& i, CopyOut& copy) {
  const std::string name = Lower(tokens[i].text);
  ++i;
  auto value = [&]() -> std::optional<std::string> {
    const Token& t = tokens[i];
    if (t.kind == TokenKind::kString || t.kind == TokenKind::kWord || t.kind == TokenKind::kNumber) {
      ++i;
      return t.text;
    }
    return std::nullopt;
  };
  if (name == "csv") {
    copy.csv = true;
  } else if (name == "binary") {
    return {Code::kUnsupported, "COPY in binary format is not supported: use FORMAT text or csv"};
  } else if (name == "format") {
    const auto format = value();
    if (!format) return Invalid("COPY FORMAT needs a value");
    if (EqualsIgnoreCase(*format, "csv")) {
      copy.csv = true;
    } else if (EqualsIgnoreCase(*format, "binary")) {
      return {Code::kUnsupported, "COPY in binary format is not supported: use FORMAT text or csv"};
    } else if (!EqualsIgnoreCase(*format, "text")) {
      return Invalid("COPY format \"" + *format + "\" not recognized");
    }
  } else if (name == "header") {
    copy.header = true;
    if (tokens[i].kind == TokenKind::kWord && !IsWord(tokens[i], "csv") && !IsWord(tokens[i], "delimiter") &&
        !IsWord(tokens[i], "null") && !IsWord(tokens[i], "quote")) {
      const std::string v = Lower(tokens[i++].text);
      copy.header = v == "true" || v == "on";
    }
  } else if (name == "delimiter" || name == "quote") {
    if (IsWord(tokens[i], "as")) ++i;
    const auto v = value();
    if (!v || v->size() != 1) return Invalid("COPY " + Upper(name) + " must be a single one-byte character");
    (name == "delimiter" ? copy.delimiter : copy.quote) = (*v)[0];
  } else if (name == "null") {
    if (IsWord(tokens[i], "as")) ++i;
    const auto v = value();
    if (!v) return Invalid("COPY NULL needs a string");
    copy.null_text = *v;
  } else {
    return Invalid("COPY option \"" + name + "\" not recognized");
  }
  return Status::Ok();
}

// A CSV field: quoted when it holds the delimiter, the quote, a line break, or is empty
// (an empty string that is not NULL).
void AppendCsvField(std::string& line, std::string_view value, const CopyOut& copy) {
  const bool quote = value.empty() || value.find_first_of(std::string{copy.delimiter, copy.quote, '\n', '\r'}) !=
                                          std::string_view::npos;
  if (!quote) {
    line += value;
    return;
  }
  line += copy.quote;
  for (const char c : value) {
    if (c == copy.quote) line += copy.quote;
    line += c;
  }
  line += copy.quote;
}

// A text-format field: backslash, line breaks, tab and the delimiter escaped.
void AppendTextField(std::string& line, std::string_view value, const CopyOut& copy) {
  for (const char c : value) {
    switch (c) {
      case '\\': line += "\\\\"; break;
      case '\n': line += "\\n"; break;
      case '\r': line += "\\r"; break;
      case '\t': line += "\\t"; break;
      default:
        if (c == copy.delimiter) line += '\\';
        line += c;
    }
  }
}

}  // namespace

std::optional<Result<CopyOut>> ParseCopy(std::string_view statement) {
  // Every statement of the door passes here: lex it whole only when it is a COPY.
  const std::vector<std::string> first = LeadingWords(statement, 1);
  if (first.empty() || first[0] != "COPY") return std::nullopt;
  const std::vector<Token> tokens = sql::Tokenize(statement);
  CopyOut copy;
  size_t i = 1;
  if (IsSymbol(tokens[i], '(')) {
    // COPY (query) TO ...: the query is the text between the parentheses.
    int depth = 0;
    const size_t open = i;
    for (; tokens[i].kind != TokenKind::kEnd; ++i) {
      if (IsSymbol(tokens[i], '(')) ++depth;
      if (IsSymbol(tokens[i], ')') && --depth == 0) break;
    }
    if (tokens[i].kind == TokenKind::kEnd) return Result<CopyOut>(Invalid("COPY (query): the parenthesis is not closed"));
    const char* begin = tokens[open].source.data() + 1;
    copy.select = std::string(begin, static_cast<size_t>(tokens[i].source.data() - begin));
    ++i;
  } else {
    // COPY [ns.]table [(columns)] TO ...
    std::string table;
    while (tokens[i].kind == TokenKind::kWord || tokens[i].kind == TokenKind::kQuotedIdentifier ||
           IsSymbol(tokens[i], '.')) {
      table += tokens[i].kind == TokenKind::kQuotedIdentifier ? QuotedIdentifier(tokens[i].text)
                                                                : std::string(tokens[i].source);
      ++i;
      if (IsWord(tokens[i], "to") || IsWord(tokens[i], "from")) break;
    }
    if (table.empty()) return Result<CopyOut>(Invalid("COPY needs a table or a (query)"));
    std::string columns = "*";
    if (IsSymbol(tokens[i], '(')) {
      columns.clear();
      for (++i; tokens[i].kind != TokenKind::kEnd && !IsSymbol(tokens[i], ')'); ++i) columns += tokens[i].source;
      if (!IsSymbol(tokens[i], ')')) return Result<CopyOut>(Invalid("COPY: the column list is not closed"));
      ++i;
    }
    copy.select = "SELECT " + columns + " FROM " + table;
  }
  if (IsWord(tokens[i], "from")) {
    return Result<CopyOut>(Status(Code::kUnsupported, "COPY FROM is not supported: load rows with INSERT"));
  }
  if (!IsWord(tokens[i], "to")) return Result<CopyOut>(Invalid("COPY: expected TO STDOUT"));
  ++i;
  if (!IsWord(tokens[i], "stdout")) {
    return Result<CopyOut>(Status(Code::kPermissionDenied,
                                  "COPY to a file on the server is not allowed: use COPY ... TO STDOUT "
                                  "(psql's \\copy)"));
  }
  ++i;
  if (IsWord(tokens[i], "with")) ++i;
  const bool list = IsSymbol(tokens[i], '(');
  if (list) ++i;
  while (tokens[i].kind != TokenKind::kEnd && !(list && IsSymbol(tokens[i], ')')) && !IsSymbol(tokens[i], ';')) {
    if (IsSymbol(tokens[i], ',')) {
      ++i;
      continue;
    }
    if (tokens[i].kind != TokenKind::kWord) return Result<CopyOut>(Invalid("COPY: unexpected \"" + tokens[i].text + "\""));
    if (Status s = ReadOption(tokens, i, copy); !s.ok()) return Result<CopyOut>(s);
  }
  if (list && !IsSymbol(tokens[i], ')')) return Result<CopyOut>(Invalid("COPY: the option list is not closed"));
  if (copy.csv) {
    if (copy.delimiter == '\t') copy.delimiter = ',';
    if (copy.null_text == "\\N") copy.null_text.clear();
  } else if (copy.header) {
    return Result<CopyOut>(Invalid("COPY HEADER is available only in CSV mode"));
  }
  return Result<CopyOut>(std::move(copy));
}

void AppendCopyOut(std::string& out, const CopyOut& copy, const ResultRows& rows) {
  const size_t columns = rows.columns().size();
  MessageBuilder response('H');  // CopyOutResponse: text, every column text
  response.Int8(0).Int16(static_cast<int16_t>(columns));
  for (size_t c = 0; c < columns; ++c) response.Int16(0);
  response.AppendTo(out);
  std::string line;
  auto send = [&] {
    line += '\n';
    MessageBuilder('d').Bytes(line).AppendTo(out);
    line.clear();
  };
  if (copy.header) {
    for (size_t c = 0; c < columns; ++c) {
      if (c > 0) line += copy.delimiter;
      AppendCsvField(line, rows.columns()[c].name, copy);
    }
    send();
  }
  std::string cell;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < columns; ++c) {
      if (c > 0) line += copy.delimiter;
      cell.clear();
      if (!rows.CellText(r, c, cell)) {
        line += copy.null_text;
      } else if (copy.csv) {
        AppendCsvField(line, cell, copy);
      } else {
        AppendTextField(line, cell, copy);
      }
    }
    send();
  }
  MessageBuilder('c').AppendTo(out);  // CopyDone
}

}  // namespace kalam::pgwire
