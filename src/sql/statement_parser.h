// The parser of KalamDB's own statements: recursive descent over the tokens of one
// statement whose leading keywords have been recognised. One class, as DuckDB's
// Transformer is: each statement family defines its members in a file of its own
// (parse_namespace.cpp, parse_user.cpp, parse_table.cpp, parse_storage.cpp, parse_job.cpp,
// parse_live.cpp, parse_execute_as.cpp); the token helpers below are shared by all.
// Error messages name what was expected, where, and what was found instead.
// Internal to sql/.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/json_text.h"
#include "common/text.h"
#include "sql/kalam_statement.h"
#include "common/sql_lexer.h"

namespace kalam::sql {

// Whether token is the keyword (any case).
bool IsKeyword(const Token& token, std::string_view keyword);
bool IsSymbol(const Token& token, char symbol);
// A token as an error message shows it. A string literal's value is never shown: it may be
// a password.
std::string Describe(const Token& token);
// A SQL numeric literal (as the lexer reads one) as a JSON number, which has no leading
// zeros and needs digits on both sides of a '.'.
std::string JsonNumber(bool negative, std::string_view literal);
// text as a SQL string literal, quotes doubled.
std::string QuoteSql(std::string_view text);
// digits only, within int64.
std::optional<int64_t> WholeNumber(std::string_view text);

class StatementParser {
 public:
  // sql: the statement's text (tokens point into it); statement: its leading keywords as
  // messages name it ("CREATE NAMESPACE"); start: the first token after them.
  StatementParser(std::string_view sql, std::vector<Token> tokens, std::string statement,
                  size_t start)
      : sql_(sql), tokens_(std::move(tokens)), statement_(std::move(statement)), next_(start) {}

  // ---- namespaces (parse_namespace.cpp) ----
  Result<KalamStatement> ParseCreateNamespace();
  Result<KalamStatement> ParseDropNamespace();
  Result<KalamStatement> ParseAlterNamespace();
  Result<KalamStatement> ParseShowNamespaces() { return KalamStatement(ShowNamespaces{}); }

  // ---- users (parse_user.cpp) ----
  // The clauses after the user name come in any order; WITH may precede any of them.
  Result<KalamStatement> ParseCreateUser();
  Result<KalamStatement> ParseAlterUser();
  Result<KalamStatement> ParseDropUser();

  // ---- tables (parse_table.cpp) ----
  Result<KalamStatement> ParseCreateTable() { return ParseCreateTable(std::nullopt); }
  Result<KalamStatement> ParseCreateUserTable() { return ParseCreateTable("user"); }
  Result<KalamStatement> ParseCreateSharedTable() { return ParseCreateTable("shared"); }
  Result<KalamStatement> ParseCreateStreamTable() { return ParseCreateTable("stream"); }
  // The column list, then WITH (...) and the older inline options, in any order.
  Result<KalamStatement> ParseCreateTable(std::optional<std::string> kind);
  Result<KalamStatement> ParseDropTable();
  Result<KalamStatement> ParseAlterTable();
  Result<KalamStatement> ParseShowTables();
  Result<KalamStatement> ParseDescribeTable();
  Result<KalamStatement> ParseShowStats();

  // ---- storages (parse_storage.cpp) ----
  Result<KalamStatement> ParseCreateStorage();
  Result<KalamStatement> ParseAlterStorage();
  Result<KalamStatement> ParseDropStorage();
  Result<KalamStatement> ParseShowStorages() { return KalamStatement(ShowStorages{}); }
  Result<KalamStatement> ParseClusterStatus() { return KalamStatement(ClusterStatus{}); }
  Result<KalamStatement> ParseClusterList() { return KalamStatement(ClusterList{}); }
  Result<KalamStatement> ParseClusterDrain() { return ParseDrain(true); }
  Result<KalamStatement> ParseClusterUndrain() { return ParseDrain(false); }
  Result<KalamStatement> ParseDrain(bool draining);

  // ---- flush, compaction, jobs and running statements (parse_job.cpp) ----
  Result<KalamStatement> ParseFlush();  // after FLUSH: TABLE t | ALL TABLES [IN ns]
  Result<KalamStatement> ParseStorageFlush();    // after STORAGE FLUSH: TABLE t
  Result<KalamStatement> ParseStorageCompact();  // after STORAGE COMPACT: TABLE t
  Result<KalamStatement> ParseKillJob();
  Result<KalamStatement> ParseKillQuery();
  Result<KalamStatement> ParseBackup();   // after BACKUP DATABASE: TO 'path'
  Result<KalamStatement> ParseRestore();  // after RESTORE DATABASE: FROM 'path'

  // ---- live queries (parse_live.cpp) ----
  Result<KalamStatement> ParseSubscribeTo();
  Result<KalamStatement> ParseKillLiveQuery();

  // ---- EXECUTE AS (parse_execute_as.cpp) ----
  Result<KalamStatement> ParseExecuteAsUser();  // after EXECUTE AS USER
  Result<KalamStatement> ParseExecuteAs();      // after EXECUTE AS

  // ---- topics (parse_topic.cpp) ----
  Result<KalamStatement> ParseCreateTopic();
  Result<KalamStatement> ParseDropTopic();
  Result<KalamStatement> ParseClearTopic();
  Result<KalamStatement> ParseAlterTopic();
  Result<KalamStatement> ParseConsume();         // after CONSUME FROM
  Result<KalamStatement> ParseAck();             // after ACK
  Result<KalamStatement> ParseResetConsumerGroup();  // after RESET CONSUMER GROUP

  // ---- transactions (parse_transaction.cpp) ----
  Result<KalamStatement> ParseBegin();     // after BEGIN or START TRANSACTION
  Result<KalamStatement> ParseCommit();    // after COMMIT or END
  Result<KalamStatement> ParseRollback();  // after ROLLBACK or ABORT

  // An optional ';', then nothing.
  Status ExpectEnd() {
    if (IsSymbol(Peek(), ';')) Take();
    if (Peek().kind == TokenKind::kEnd) return Status::Ok();
    return Status(Code::kInvalidSql,
                  fmt::format("Expected the end of {}, found {}", statement_, Describe(Peek())));
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }

  const Token& Take() {
    const Token& token = Peek();
    next_ = std::min(next_ + 1, tokens_.size() - 1);
    return token;
  }

  bool PeekKeyword(std::string_view keyword, size_t ahead = 0) const {
    return IsKeyword(Peek(ahead), keyword);
  }

  bool Accept(std::string_view keyword) {
    if (!PeekKeyword(keyword)) return false;
    Take();
    return true;
  }

  bool AtEnd() const {
    return Peek().kind == TokenKind::kEnd ||
           (IsSymbol(Peek(), ';') && Peek(1).kind == TokenKind::kEnd);
  }

  // IF NOT EXISTS sets accepted; IF not followed by NOT is left to be a name.
  Status AcceptIfNotExists(bool& accepted) {
    if (!PeekKeyword("IF") || !PeekKeyword("NOT", 1)) return Status::Ok();
    next_ += 2;
    accepted = true;
    return Expect("EXISTS", After("IF NOT"));
  }

  // IF EXISTS, when IF is followed by EXISTS (else IF may be a name).
  bool AcceptIfExists() {
    if (!PeekKeyword("IF") || !PeekKeyword("EXISTS", 1)) return false;
    next_ += 2;
    return true;
  }

  // "after <what> in CREATE USER", or "after CREATE USER" when what is empty.
  std::string After(std::string_view what) const {
    if (what.empty()) return "after " + statement_;
    return fmt::format("after {} in {}", what, statement_);
  }

  Status Fail(std::string_view expected, std::string_view where) const {
    const Token& found = AtEnd() ? tokens_.back() : Peek();  // a final ';' ends the statement
    return Status(Code::kInvalidSql,
                  fmt::format("Expected {} {}, found {}", expected, where, Describe(found)));
  }

  Status Expect(std::string_view keyword, std::string_view where) {
    return Accept(keyword) ? Status::Ok() : Fail(keyword, where);
  }

  Status ExpectSymbol(char symbol, std::string_view where) {
    if (!IsSymbol(Peek(), symbol)) return Fail(fmt::format("'{}'", symbol), where);
    Take();
    return Status::Ok();
  }

  // name or "Name": unquoted names fold to lower case.
  Result<std::string> Identifier(std::string_view what, std::string_view where) {
    if (Peek().kind == TokenKind::kWord) return Lower(Take().text);
    if (Peek().kind == TokenKind::kQuotedIdentifier) return Take().text;
    return Fail(what, where);
  }

  // 'name', "Name" or name (folded).
  Result<std::string> Name(std::string_view what, std::string_view where) {
    if (Peek().kind == TokenKind::kString) return Take().text;
    return Identifier(what, where);
  }

  // role, 'role' or "role", always lower case.
  Result<std::string> Role(std::string_view where) {
    const TokenKind kind = Peek().kind;
    if (kind == TokenKind::kWord || kind == TokenKind::kQuotedIdentifier ||
        kind == TokenKind::kString) {
      return Lower(Take().text);
    }
    return Fail("a role", where);
  }

  Result<std::string> String(std::string_view what, std::string_view where) {
    if (Peek().kind == TokenKind::kString) return Take().text;
    return Fail(fmt::format("the {} as a string literal", what), where);
  }

  // How a message names the option just read before its '=' is: a name written as a string
  // literal is not repeated until the '=' shows it is one (it may be a misplaced value, such
  // as a password).
  static std::string UnconfirmedOption(bool quoted, const std::string& option) {
    return quoted ? "an option name in quotes" : option;
  }

  Result<std::string> OptionKey(std::string_view where) {
    const Token& token = Peek();
    if (token.kind == TokenKind::kWord || token.kind == TokenKind::kQuotedIdentifier ||
        token.kind == TokenKind::kString) {
      return Lower(Take().text);
    }
    return Fail("an option name", where);
  }

  // The value as JSON text. A number past a double's range (1e999) is refused: JSON
  // readers take it for infinity, which they cannot write back. A zero loses its exponent
  // (0e999 is 0): Boost.JSON 1.81 reads 0e999 as NaN.
  Result<std::string> OptionValue(const std::string& option) {
    const bool signed_number =
        (IsSymbol(Peek(), '-') || IsSymbol(Peek(), '+')) && Peek(1).kind == TokenKind::kNumber;
    const bool negative = signed_number && IsSymbol(Take(), '-');
    const Token& token = Peek();
    if (token.kind == TokenKind::kNumber) {
      std::string number = JsonNumber(negative, token.text);
      const size_t exponent = number.find_first_of("eE");
      if (exponent != std::string::npos && std::strtod(number.substr(0, exponent).c_str(), nullptr) == 0) {
        number.resize(exponent);
      }
      if (!std::isfinite(std::strtod(number.c_str(), nullptr))) {
        return Status(Code::kInvalidSql, fmt::format("The value of {} in {} is out of range: {}",
                                                     option, statement_, Describe(token)));
      }
      Take();
      return number;
    }
    if (token.kind == TokenKind::kString) return JsonString(Take().text);
    for (const char* literal : {"true", "false", "null"}) {
      if (IsKeyword(token, Upper(literal))) {
        Take();
        return std::string(literal);
      }
    }
    return Fail("a value (a string, a number, TRUE, FALSE or NULL)",
                fmt::format("for {} in {}", option, statement_));
  }

  // [ns.]name, each part folded unless quoted.
  Result<TableName> QualifiedName(std::string_view where) {
    Result<std::string> first = Identifier("a table name", where);
    if (!first.ok()) return first.status();
    if (!IsSymbol(Peek(), '.')) return TableName{"", std::move(*first)};
    Take();
    Result<std::string> name = Identifier("a table name", After(fmt::format("'{}.'", *first)));
    if (!name.ok()) return name.status();
    return TableName{std::move(*first), std::move(*name)};
  }

  // A whole number written without sign or fraction, at least minimum (0 or 1).
  Result<int64_t> Integer(int64_t minimum, std::string_view where) {
    const std::optional<int64_t> value =
        Peek().kind == TokenKind::kNumber ? WholeNumber(Peek().text) : std::nullopt;
    if (!value || *value < minimum) {
      return Fail(minimum > 0 ? "a positive integer" : "a non-negative integer", where);
    }
    Take();
    return *value;
  }

  template <typename T>
  Status SetOnce(std::optional<T>& field, T value, std::string_view what) const {
    if (field.has_value()) {
      return Status(Code::kInvalidSql,
                    fmt::format("The {} is given twice in {}", what, statement_));
    }
    field = std::move(value);
    return Status::Ok();
  }

  // '(' name = value, ... ')' after what: each name (lower case) with "option 'name'" for
  // messages, handed to read_value once its '=' is read; read_value reads the value.
  Status OptionList(std::string_view what,
                    const std::function<Status(std::string name, const std::string& option)>& read_value) {
    KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After(what)));
    std::string_view after = "'('";
    do {
      const bool quoted = Peek().kind == TokenKind::kString;
      Result<std::string> key = OptionKey(After(after));
      after = "','";
      if (!key.ok()) return key.status();
      const std::string option = fmt::format("option '{}'", *key);
      KALAM_RETURN_IF_ERROR(ExpectSymbol('=', After(UnconfirmedOption(quoted, option))));
      KALAM_RETURN_IF_ERROR(read_value(std::move(*key), option));
      if (!IsSymbol(Peek(), ',') && !IsSymbol(Peek(), ')')) {
        return Fail("',' or ')'", After("the value of " + option));
      }
    } while (IsSymbol(Take(), ','));
    return Status::Ok();
  }

  // The text of tokens [first, last), as written (with the spaces and comments between).
  std::string_view SourceBetween(size_t first, size_t last) const {
    if (first >= last) return {};
    const char* begin = tokens_[first].source.data();
    const char* end = tokens_[last - 1].source.data() + tokens_[last - 1].source.size();
    return std::string_view(begin, static_cast<size_t>(end - begin));
  }
  // The index of the ')' that closes the '(' at open; tokens_.size() - 1 (kEnd) when none.
  size_t ClosingParen(size_t open) const {
    int depth = 0;
    for (size_t i = open; i + 1 < tokens_.size(); ++i) {
      if (IsSymbol(tokens_[i], '(')) ++depth;
      if (IsSymbol(tokens_[i], ')') && --depth == 0) return i;
    }
    return tokens_.size() - 1;
  }

  // Topic helpers (parse_topic.cpp).
  // LATEST | EARLIEST | a non-negative offset.
  Result<TopicPosition> Position(std::string_view where);
  // INSERT | UPDATE | DELETE, lower case.
  Result<std::string> TopicOp(std::string_view where);

  // Table helpers (parse_table.cpp).
  // A column as parsed, with what ColumnSpec does not keep.
  struct ColumnDefinition {
    ColumnSpec spec;
    bool nullable_written = false;  // NULL was written, which a primary key contradicts
  };
  // '(' column definitions and PRIMARY KEY (c), separated by ',' ')'. Sets primary_key and
  // not_null on the one primary key column.
  Status ColumnList(CreateTable& create);
  // name TYPE, then NOT NULL | NULL, DEFAULT expr, PRIMARY KEY, AUTO_INCREMENT in any order.
  Result<ColumnDefinition> Column(std::string_view what, std::string_view where,
                                  bool primary_key_allowed);
  // A type of kTypes, with VARCHAR(n), CHAR(n), DOUBLE PRECISION, DECIMAL[(p[,s])].
  Status Type(ColumnSpec& spec);
  // A literal or a function of kDefaultFunctions, canonical (see ColumnSpec::default_expr).
  Result<std::string> Default(const std::string& column);
  // WITH was read: (key = value, ...).
  Status WithOptions(CreateTable& create);
  // 'rows:N', 'interval:S' or both, separated by ','.
  Status FlushPolicy(CreateTable& create, std::string_view where);
  // FLUSH was read: ROWS n | SECONDS n | INTERVAL n[s] [ROW_THRESHOLD n].
  Status InlineFlush(CreateTable& create);
  // 'user' | 'shared' | 'stream' (or a word), which must agree with a kind given before.
  Status Kind(CreateTable& create, std::string_view where);
  Status AccessLevel(CreateTable& create, std::string_view where);

  std::string_view sql_;
  std::vector<Token> tokens_;  // ends with kEnd
  std::string statement_;      // its leading keywords, e.g. "CREATE NAMESPACE"
  size_t next_;                // the next token to read
};

}  // namespace kalam::sql
