#include "sql/kalam_statement.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "sql/lexer.h"

namespace kalam::sql {

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) { return Lower(c); });
  return text;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) { return Upper(c); });
  return text;
}

bool IsKeyword(const Token& token, std::string_view keyword) {
  return token.kind == TokenKind::kWord && token.text.size() == keyword.size() &&
         std::equal(keyword.begin(), keyword.end(), token.text.begin(),
                    [](char k, char c) { return k == Upper(c); });
}

bool IsSymbol(const Token& token, char symbol) {
  return token.kind == TokenKind::kSymbol && token.text[0] == symbol;
}

// A token as an error message shows it. A string literal's value is never shown: it may be
// a password.
std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the statement";
    case TokenKind::kString:
      return "a string literal";
    default: {
      constexpr size_t kMaxShown = 40;
      if (token.source.size() > kMaxShown) {
        return fmt::format("'{}...'", token.source.substr(0, kMaxShown));
      }
      return fmt::format("'{}'", token.source);
    }
  }
}

std::string JsonString(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// A SQL numeric literal (as the lexer reads one) as a JSON number, which has no leading
// zeros and needs digits on both sides of a '.'.
std::string JsonNumber(bool negative, std::string_view literal) {
  const size_t exponent_at = std::min(literal.find_first_of("eE"), literal.size());
  const std::string_view mantissa = literal.substr(0, exponent_at);
  const size_t dot = std::min(mantissa.find('.'), mantissa.size());
  std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(std::min(dot + 1, mantissa.size()));
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);

  std::string out = negative ? "-" : "";
  out += whole.empty() ? "0" : whole;
  if (!fraction.empty()) out.append(".").append(fraction);
  out += literal.substr(exponent_at);
  return out;
}

// The column types of SPEC §3.2, each with its aliases.
struct TypeAliases {
  std::string_view canonical;
  std::array<std::string_view, 3> aliases;
};

constexpr TypeAliases kTypes[] = {
    {"BOOLEAN", {"BOOL"}},
    {"SMALLINT", {"INT2"}},
    {"INT", {"INTEGER", "INT4"}},
    {"BIGINT", {"INT8"}},
    {"FLOAT", {"REAL", "FLOAT4"}},
    {"DOUBLE", {"FLOAT8"}},  // and DOUBLE PRECISION
    {"DECIMAL", {"NUMERIC"}},
    {"TEXT", {"VARCHAR", "STRING", "CHAR"}},
    {"BYTES", {"BYTEA", "BLOB", "BINARY"}},
    {"JSON", {}},
    {"TIMESTAMP", {"DATETIME"}},
    {"DATE", {}},
    {"TIME", {}},
    {"UUID", {}},
};

// The functions a DEFAULT may call, all without arguments, in their canonical spelling.
constexpr std::string_view kDefaultFunctions[] = {"NOW", "SNOWFLAKE_ID", "UUID_V7", "ULID",
                                                  "CURRENT_USER"};

std::string QuoteSql(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

// digits only, within int64.
std::optional<int64_t> WholeNumber(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || text[0] == '-') {
    return std::nullopt;
  }
  return value;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Recursive descent over one statement whose leading keywords have been recognized.
// Error messages name what was expected, where, and what was found instead.
class Parser {
 public:
  // start: the index of the first token after the leading keywords.
  Parser(std::vector<Token> tokens, std::string statement, size_t start)
      : tokens_(std::move(tokens)), statement_(std::move(statement)), next_(start) {}

  Result<KalamStatement> ParseCreateNamespace() {
    CreateNamespace create;
    KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
    Result<std::string> name =
        Identifier("a namespace name", After(create.if_not_exists ? "IF NOT EXISTS" : ""));
    if (!name.ok()) return name.status();
    create.name = std::move(*name);
    return KalamStatement(std::move(create));
  }

  Result<KalamStatement> ParseDropNamespace() {
    DropNamespace drop;
    drop.if_exists = AcceptIfExists();
    Result<std::string> name =
        Identifier("a namespace name", After(drop.if_exists ? "IF EXISTS" : ""));
    if (!name.ok()) return name.status();
    drop.name = std::move(*name);
    drop.cascade = Accept("CASCADE");
    return KalamStatement(std::move(drop));
  }

  Result<KalamStatement> ParseAlterNamespace() {
    AlterNamespace alter;
    Result<std::string> name = Identifier("a namespace name", After(""));
    if (!name.ok()) return name.status();
    alter.name = std::move(*name);
    KALAM_RETURN_IF_ERROR(Expect("SET", After("the namespace name")));
    KALAM_RETURN_IF_ERROR(Expect("OPTIONS", After("SET")));
    KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After("SET OPTIONS")));
    std::string_view after = "'('";
    do {
      Result<std::string> key = OptionKey(After(after));
      after = "','";
      if (!key.ok()) return key.status();
      const std::string option = fmt::format("option '{}'", *key);
      if (std::any_of(alter.options.begin(), alter.options.end(),
                      [&](const auto& kv) { return kv.first == *key; })) {
        return Status(Code::kInvalidSql,
                      fmt::format("The {} is given twice in {}", option, statement_));
      }
      KALAM_RETURN_IF_ERROR(ExpectSymbol('=', After(option)));
      Result<std::string> value = OptionValue(option);
      if (!value.ok()) return value.status();
      alter.options.emplace_back(std::move(*key), std::move(*value));
      if (!IsSymbol(Peek(), ',') && !IsSymbol(Peek(), ')')) {
        return Fail("',' or ')'", After("the value of " + option));
      }
    } while (IsSymbol(Take(), ','));
    return KalamStatement(std::move(alter));
  }

  Result<KalamStatement> ParseShowNamespaces() { return KalamStatement(ShowNamespaces{}); }
  Result<KalamStatement> ParseShowStorages() { return KalamStatement(ShowStorages{}); }

  // The clauses after the user name come in any order; WITH may precede any of them.
  Result<KalamStatement> ParseCreateUser() {
    CreateUser create;
    KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
    Result<std::string> name =
        Name("a user name", After(create.if_not_exists ? "IF NOT EXISTS" : ""));
    if (!name.ok()) return name.status();
    create.username = std::move(*name);

    std::string_view last = "the user name";  // the clause just read, for messages
    bool has_password = false;
    bool has_role = false;
    while (!AtEnd()) {
      const bool with = Accept("WITH");
      const Token& clause = Peek();
      if (IsKeyword(clause, "PASSWORD") || IsKeyword(clause, "ROLE") ||
          IsKeyword(clause, "EMAIL")) {
        const std::string keyword = Upper(Take().text);
        const bool repeated = keyword == "PASSWORD" ? std::exchange(has_password, true)
                              : keyword == "ROLE"   ? std::exchange(has_role, true)
                                                    : create.email.has_value();
        if (repeated) {
          return Status(Code::kInvalidSql,
                        fmt::format("{} is given twice in {}", keyword, statement_));
        }
        Result<std::string> value =
            keyword == "ROLE" ? Role(After(keyword)) : String(Lower(keyword), After(keyword));
        if (!value.ok()) return value.status();
        if (keyword == "PASSWORD") {
          create.password = std::move(*value);
          last = "the password";
        } else if (keyword == "ROLE") {
          create.role = std::move(*value);
          last = "the role";
        } else {
          create.email = std::move(*value);
          last = "the email";
        }
      } else {
        return Fail("PASSWORD, ROLE or EMAIL", After(with ? "WITH" : last));
      }
    }
    if (!has_password) return Fail("WITH PASSWORD", After(last));
    if (!has_role) return Fail("ROLE", After(last));
    return KalamStatement(std::move(create));
  }

  Result<KalamStatement> ParseAlterUser() {
    AlterUser alter;
    Result<std::string> name = Name("a user name", After(""));
    if (!name.ok()) return name.status();
    alter.username = std::move(*name);
    // WITH as in PostgreSQL's ALTER USER u WITH PASSWORD 'pw'.
    if (!PeekKeyword("SET") && !PeekKeyword("WITH")) return Fail("SET", After("the user name"));
    const std::string set = Upper(Take().text);
    const std::string clause = set + " " + Upper(Peek().text);
    if (Accept("PASSWORD")) {
      alter.field = AlterUser::Field::kPassword;
    } else if (Accept("ROLE")) {
      alter.field = AlterUser::Field::kRole;
    } else if (Accept("EMAIL")) {
      alter.field = AlterUser::Field::kEmail;
    } else {
      return Fail("PASSWORD, ROLE or EMAIL", After(set));
    }
    Result<std::string> value = alter.field == AlterUser::Field::kRole ? Role(After(clause))
                                : alter.field == AlterUser::Field::kPassword
                                    ? String("password", After(clause))
                                    : String("email", After(clause));
    if (!value.ok()) return value.status();
    alter.value = std::move(*value);
    return KalamStatement(std::move(alter));
  }

  Result<KalamStatement> ParseDropUser() {
    DropUser drop;
    drop.if_exists = AcceptIfExists();
    Result<std::string> name = Name("a user name", After(drop.if_exists ? "IF EXISTS" : ""));
    if (!name.ok()) return name.status();
    drop.username = std::move(*name);
    return KalamStatement(std::move(drop));
  }

  // ---- tables ----

  Result<KalamStatement> ParseCreateTable() { return ParseCreateTable(std::nullopt); }
  Result<KalamStatement> ParseCreateUserTable() { return ParseCreateTable("user"); }
  Result<KalamStatement> ParseCreateSharedTable() { return ParseCreateTable("shared"); }
  Result<KalamStatement> ParseCreateStreamTable() { return ParseCreateTable("stream"); }

  // The column list, then WITH (...) and the older inline options, in any order.
  Result<KalamStatement> ParseCreateTable(std::optional<std::string> kind) {
    CreateTable create;
    create.kind = std::move(kind);
    KALAM_RETURN_IF_ERROR(AcceptIfNotExists(create.if_not_exists));
    Result<TableName> table = QualifiedName(After(create.if_not_exists ? "IF NOT EXISTS" : ""));
    if (!table.ok()) return table.status();
    create.table = std::move(*table);
    KALAM_RETURN_IF_ERROR(ColumnList(create));

    std::string last = "the column list";  // the clause just read, for messages
    while (!AtEnd()) {
      const std::string clause = Upper(Peek().text);
      if (Accept("WITH")) {
        KALAM_RETURN_IF_ERROR(WithOptions(create));
        last = "WITH (...)";
        continue;
      }
      if (Accept("FLUSH")) {
        KALAM_RETURN_IF_ERROR(InlineFlush(create));
      } else if (Accept("TTL")) {
        Result<int64_t> ttl = Integer(1, After("TTL"));
        if (!ttl.ok()) return ttl.status();
        Accept("SECONDS");
        KALAM_RETURN_IF_ERROR(SetOnce(create.ttl_seconds, *ttl, "TTL"));
      } else if (Accept("STORAGE")) {
        Result<std::string> storage = Name("a storage id", After("STORAGE"));
        if (!storage.ok()) return storage.status();
        KALAM_RETURN_IF_ERROR(SetOnce(create.storage_id, std::move(*storage), "storage"));
      } else if (Accept("ACCESS")) {
        KALAM_RETURN_IF_ERROR(Expect("LEVEL", After("ACCESS")));
        KALAM_RETURN_IF_ERROR(AccessLevel(create, After("ACCESS LEVEL")));
      } else if (Accept("TABLE_TYPE")) {
        KALAM_RETURN_IF_ERROR(Kind(create, After("TABLE_TYPE")));
      } else {
        return Fail("WITH, FLUSH, TTL, STORAGE, ACCESS LEVEL or TABLE_TYPE", After(last));
      }
      last = "the " + clause + " clause";
    }
    return KalamStatement(std::move(create));
  }

  Result<KalamStatement> ParseDropTable() {
    DropTable drop;
    drop.if_exists = AcceptIfExists();
    Result<TableName> table = QualifiedName(After(drop.if_exists ? "IF EXISTS" : ""));
    if (!table.ok()) return table.status();
    drop.table = std::move(*table);
    return KalamStatement(std::move(drop));
  }

  Result<KalamStatement> ParseAlterTable() {
    AlterTable alter;
    Result<TableName> table = QualifiedName(After(""));
    if (!table.ok()) return table.status();
    alter.table = std::move(*table);
    if (Accept("ADD")) {
      const bool column = Accept("COLUMN");
      if (PeekKeyword("PRIMARY") && PeekKeyword("KEY", 1)) {
        return Status(Code::kInvalidSql,
                      fmt::format("{} cannot add a PRIMARY KEY: a table's primary key is set "
                                  "when it is created",
                                  statement_));
      }
      alter.action = AlterTable::Action::kAddColumn;
      Result<ColumnDefinition> added =
          Column("a column name", After(column ? "ADD COLUMN" : "ADD"), false);
      if (!added.ok()) return added.status();
      alter.column = std::move(added->spec);
    } else if (Accept("DROP")) {
      const bool column = Accept("COLUMN");
      alter.action = AlterTable::Action::kDropColumn;
      Result<std::string> name =
          Identifier("a column name", After(column ? "DROP COLUMN" : "DROP"));
      if (!name.ok()) return name.status();
      alter.column_name = std::move(*name);
    } else if (Accept("RENAME")) {
      KALAM_RETURN_IF_ERROR(Expect("COLUMN", After("RENAME")));
      alter.action = AlterTable::Action::kRenameColumn;
      Result<std::string> name = Identifier("a column name", After("RENAME COLUMN"));
      if (!name.ok()) return name.status();
      alter.column_name = std::move(*name);
      const std::string old_column = fmt::format("RENAME COLUMN {}", alter.column_name);
      KALAM_RETURN_IF_ERROR(Expect("TO", After(old_column)));
      Result<std::string> new_name = Identifier("the new column name", After("TO"));
      if (!new_name.ok()) return new_name.status();
      alter.new_name = std::move(*new_name);
    } else {
      return Fail("ADD, DROP or RENAME COLUMN", After("the table name"));
    }
    return KalamStatement(std::move(alter));
  }

  Result<KalamStatement> ParseShowTables() {
    ShowTables show;
    if (PeekKeyword("IN") || PeekKeyword("FROM")) {
      const std::string keyword = Upper(Take().text);
      Result<std::string> ns = Identifier("a namespace name", After(keyword));
      if (!ns.ok()) return ns.status();
      show.ns = std::move(*ns);
    }
    return KalamStatement(std::move(show));
  }

  Result<KalamStatement> ParseDescribeTable() {
    DescribeTable describe;
    Result<TableName> table = QualifiedName(After(""));
    if (!table.ok()) return table.status();
    describe.table = std::move(*table);
    describe.history = Accept("HISTORY");
    return KalamStatement(std::move(describe));
  }

  Result<KalamStatement> ParseShowStats() {
    KALAM_RETURN_IF_ERROR(Expect("FOR", After("")));
    KALAM_RETURN_IF_ERROR(Expect("TABLE", After("FOR")));
    Result<TableName> table = QualifiedName(After("FOR TABLE"));
    if (!table.ok()) return table.status();
    return KalamStatement(ShowStats{std::move(*table)});
  }

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

  Result<std::string> OptionKey(std::string_view where) {
    const Token& token = Peek();
    if (token.kind == TokenKind::kWord || token.kind == TokenKind::kQuotedIdentifier ||
        token.kind == TokenKind::kString) {
      return Lower(Take().text);
    }
    return Fail("an option name", where);
  }
  // The value as JSON text.
  Result<std::string> OptionValue(const std::string& option) {
    const bool signed_number =
        (IsSymbol(Peek(), '-') || IsSymbol(Peek(), '+')) && Peek(1).kind == TokenKind::kNumber;
    const bool negative = signed_number && IsSymbol(Take(), '-');
    const Token& token = Peek();
    if (token.kind == TokenKind::kNumber) return JsonNumber(negative, Take().text);
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

  // A column as parsed, with what ColumnSpec does not keep.
  struct ColumnDefinition {
    ColumnSpec spec;
    bool nullable_written = false;  // NULL was written, which a primary key contradicts
  };

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

  // '(' column definitions and PRIMARY KEY (c), separated by ',' ')'. Sets primary_key and
  // not_null on the one primary key column.
  Status ColumnList(CreateTable& create) {
    KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After("the table name")));
    std::vector<std::string> keys;  // every column named a primary key, in order
    std::vector<std::string> nullable_written;
    std::string after = "'('";
    do {
      if (PeekKeyword("PRIMARY") && PeekKeyword("KEY", 1)) {
        next_ += 2;
        KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After("PRIMARY KEY")));
        after = "PRIMARY KEY (";
        do {
          Result<std::string> key = Identifier("a column name", After(after));
          if (!key.ok()) return key.status();
          keys.push_back(std::move(*key));
          after = "','";
        } while (IsSymbol(Peek(), ',') && IsSymbol(Take(), ','));
        KALAM_RETURN_IF_ERROR(ExpectSymbol(')', After("the PRIMARY KEY column")));
        after = "PRIMARY KEY (...)";
      } else {
        Result<ColumnDefinition> column = Column("a column definition", After(after), true);
        if (!column.ok()) return column.status();
        const std::string& name = column->spec.name;
        if (std::any_of(create.columns.begin(), create.columns.end(),
                        [&](const ColumnSpec& c) { return c.name == name; })) {
          return Status(Code::kInvalidSql,
                        fmt::format("Column '{}' is declared twice in {}", name, statement_));
        }
        if (column->spec.primary_key) keys.push_back(name);
        if (column->nullable_written) nullable_written.push_back(name);
        after = fmt::format("column '{}'", name);
        create.columns.push_back(std::move(column->spec));
      }
      if (!IsSymbol(Peek(), ',') && !IsSymbol(Peek(), ')')) return Fail("',' or ')'", After(after));
      after = "','";
    } while (IsSymbol(Take(), ','));

    if (keys.size() > 1) {
      if (keys[0] == keys[1]) {
        return Status(Code::kInvalidSql, fmt::format("PRIMARY KEY is given twice for column "
                                                     "'{}' in {}",
                                                     keys[0], statement_));
      }
      return Status(Code::kInvalidSql,
                    fmt::format("A table's primary key is one column, but {} names '{}' and "
                                "'{}'",
                                statement_, keys[0], keys[1]));
    }
    if (keys.empty()) return Status::Ok();
    const auto key = std::find_if(create.columns.begin(), create.columns.end(),
                                  [&](const ColumnSpec& c) { return c.name == keys[0]; });
    if (key == create.columns.end()) {
      return Status(Code::kInvalidSql,
                    fmt::format("PRIMARY KEY names column '{}', which {} does not declare", keys[0],
                                statement_));
    }
    if (std::find(nullable_written.begin(), nullable_written.end(), key->name) !=
        nullable_written.end()) {
      return Status(Code::kInvalidSql,
                    fmt::format("Column '{}' is the primary key and cannot be NULL in {}",
                                key->name, statement_));
    }
    key->primary_key = true;
    key->not_null = true;
    return Status::Ok();
  }

  // name TYPE, then NOT NULL | NULL, DEFAULT expr, PRIMARY KEY, AUTO_INCREMENT in any order.
  Result<ColumnDefinition> Column(std::string_view what, std::string_view where,
                                  bool primary_key_allowed) {
    ColumnDefinition column;
    ColumnSpec& spec = column.spec;
    Result<std::string> name = Identifier(what, where);
    if (!name.ok()) return name.status();
    spec.name = std::move(*name);
    KALAM_RETURN_IF_ERROR(Type(spec));

    const auto twice = [&](std::string_view clause) {
      return Status(Code::kInvalidSql, fmt::format("Column '{}' declares {} twice in {}", spec.name,
                                                   clause, statement_));
    };
    bool nullability_written = false;
    bool auto_increment = false;
    while (true) {
      if (PeekKeyword("NOT") && PeekKeyword("NULL", 1)) {
        next_ += 2;
        if (std::exchange(nullability_written, true)) return twice("NULL or NOT NULL");
        spec.not_null = true;
      } else if (Accept("NULL")) {
        if (std::exchange(nullability_written, true)) return twice("NULL or NOT NULL");
        column.nullable_written = true;
      } else if (PeekKeyword("DEFAULT") || PeekKeyword("AUTO_INCREMENT")) {
        const bool is_auto = Upper(Take().text) == "AUTO_INCREMENT";
        if (spec.default_expr.has_value()) {
          if (is_auto == auto_increment) return twice(is_auto ? "AUTO_INCREMENT" : "DEFAULT");
          return Status(Code::kInvalidSql,
                        fmt::format("Column '{}' has both DEFAULT and AUTO_INCREMENT (which "
                                    "means DEFAULT SNOWFLAKE_ID()) in {}",
                                    spec.name, statement_));
        }
        auto_increment = is_auto;
        Result<std::string> value = is_auto ? std::string("SNOWFLAKE_ID()") : Default(spec.name);
        if (!value.ok()) return value.status();
        spec.default_expr = std::move(*value);
      } else if (PeekKeyword("PRIMARY") && PeekKeyword("KEY", 1)) {
        next_ += 2;
        if (!primary_key_allowed) {
          return Status(Code::kInvalidSql,
                        fmt::format("Column '{}' cannot be a PRIMARY KEY in {}: a table's "
                                    "primary key is set when it is created",
                                    spec.name, statement_));
        }
        if (std::exchange(spec.primary_key, true)) return twice("PRIMARY KEY");
      } else {
        break;
      }
    }
    if (spec.primary_key && column.nullable_written) {
      return Status(Code::kInvalidSql,
                    fmt::format("Column '{}' is the primary key and cannot be NULL in {}",
                                spec.name, statement_));
    }
    return column;
  }

  // A type of kTypes, with VARCHAR(n), CHAR(n), DOUBLE PRECISION, DECIMAL[(p[,s])].
  Status Type(ColumnSpec& spec) {
    const std::string where = fmt::format("for column '{}' in {}", spec.name, statement_);
    if (Peek().kind != TokenKind::kWord) return Fail("a type", where);
    const Token& written = Take();
    const std::string upper = Upper(written.text);
    const auto type = std::find_if(std::begin(kTypes), std::end(kTypes), [&](const TypeAliases& t) {
      return t.canonical == upper ||
             std::find(t.aliases.begin(), t.aliases.end(), upper) != t.aliases.end();
    });
    if (type == std::end(kTypes)) {
      return Status(Code::kInvalidSql,
                    fmt::format("Unknown type '{}' for column '{}'", written.text, spec.name));
    }
    spec.type = type->canonical;
    if (upper == "DOUBLE") {
      Accept("PRECISION");
    } else if ((upper == "VARCHAR" || upper == "CHAR") && IsSymbol(Peek(), '(')) {
      Take();
      Result<int64_t> length = Integer(1, fmt::format("as the length of {} {}", upper, where));
      if (!length.ok()) return length.status();
      KALAM_RETURN_IF_ERROR(ExpectSymbol(')', fmt::format("after the length {}", where)));
    } else if (spec.type == "DECIMAL") {
      spec.precision = 18;
      spec.scale = 3;
      if (!IsSymbol(Peek(), '(')) return Status::Ok();
      Take();
      Result<int64_t> precision = Integer(0, fmt::format("as the precision {}", where));
      if (!precision.ok()) return precision.status();
      int64_t scale = 0;
      if (IsSymbol(Peek(), ',')) {
        Take();
        Result<int64_t> written_scale = Integer(0, fmt::format("as the scale {}", where));
        if (!written_scale.ok()) return written_scale.status();
        scale = *written_scale;
      }
      KALAM_RETURN_IF_ERROR(
          ExpectSymbol(')', fmt::format("after {}'s precision {}", upper, where)));
      if (*precision < 1 || *precision > 38 || scale > *precision) {
        return Status(Code::kInvalidSql,
                      fmt::format("Invalid {}({},{}) for column '{}': the precision must be 1 "
                                  "to 38 and the scale 0 to the precision",
                                  upper, *precision, scale, spec.name));
      }
      spec.precision = static_cast<int>(*precision);
      spec.scale = static_cast<int>(scale);
    }
    return Status::Ok();
  }

  // A literal or a function of kDefaultFunctions, canonical (see ColumnSpec::default_expr).
  Result<std::string> Default(const std::string& column) {
    const auto unsupported = [&] {
      return Status(Code::kInvalidSql,
                    fmt::format("Unsupported DEFAULT for column '{}' in {} (at {}): use a "
                                "literal, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), "
                                "ULID() or CURRENT_USER()",
                                column, statement_, Describe(Peek())));
    };
    std::string value;
    const Token& token = Peek();
    const std::string upper = Upper(token.text);
    const bool sign =
        (IsSymbol(token, '-') || IsSymbol(token, '+')) && Peek(1).kind == TokenKind::kNumber;
    if (token.kind == TokenKind::kString) {
      value = QuoteSql(Take().text);
    } else if (token.kind == TokenKind::kNumber || sign) {
      if (sign && IsSymbol(Take(), '-')) value = "-";
      value += Take().text;
    } else if (token.kind != TokenKind::kWord) {
      return unsupported();
    } else if (upper == "TRUE" || upper == "FALSE" || upper == "NULL") {
      Take();
      value = upper;
    } else if (upper == "CURRENT_TIMESTAMP") {
      Take();
      if (IsSymbol(Peek(), '(') && IsSymbol(Peek(1), ')')) next_ += 2;
      value = "NOW()";
    } else if (std::find(std::begin(kDefaultFunctions), std::end(kDefaultFunctions), upper) !=
                   std::end(kDefaultFunctions) &&
               IsSymbol(Peek(1), '(') && IsSymbol(Peek(2), ')')) {
      next_ += 3;
      value = upper + "()";
    } else {
      return unsupported();
    }
    // An operator or a call after it makes the DEFAULT an expression.
    if (Peek().kind == TokenKind::kSymbol && !IsSymbol(Peek(), ',') && !IsSymbol(Peek(), ')') &&
        !IsSymbol(Peek(), ';')) {
      return unsupported();
    }
    return value;
  }

  // WITH was read: (key = value, ...).
  Status WithOptions(CreateTable& create) {
    KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After("WITH")));
    std::string after = "'('";
    do {
      const std::string written = Peek().text;
      Result<std::string> key = OptionKey(After(after));
      if (!key.ok()) return key.status();
      const std::string option = fmt::format("option '{}'", *key);
      KALAM_RETURN_IF_ERROR(ExpectSymbol('=', After(option)));
      const std::string where = fmt::format("for {} in {}", option, statement_);
      if (*key == "type") {
        KALAM_RETURN_IF_ERROR(Kind(create, where));
      } else if (*key == "storage_id") {
        Result<std::string> storage = Name("a storage id", where);
        if (!storage.ok()) return storage.status();
        KALAM_RETURN_IF_ERROR(SetOnce(create.storage_id, std::move(*storage), "storage"));
      } else if (*key == "flush_policy") {
        KALAM_RETURN_IF_ERROR(FlushPolicy(create, where));
      } else if (*key == "ttl_seconds") {
        Result<int64_t> ttl = Integer(1, where);
        if (!ttl.ok()) return ttl.status();
        KALAM_RETURN_IF_ERROR(SetOnce(create.ttl_seconds, *ttl, "TTL"));
      } else if (*key == "access_level") {
        KALAM_RETURN_IF_ERROR(AccessLevel(create, where));
      } else if (*key == "deleted_retention_hours") {
        Result<int64_t> hours = Integer(0, where);
        if (!hours.ok()) return hours.status();
        KALAM_RETURN_IF_ERROR(SetOnce(create.deleted_retention_hours, *hours, "deleted retention"));
      } else {
        return Status(Code::kInvalidSql,
                      fmt::format("Unknown option '{}' in {} (the options are TYPE, STORAGE_ID, "
                                  "FLUSH_POLICY, TTL_SECONDS, ACCESS_LEVEL and "
                                  "DELETED_RETENTION_HOURS)",
                                  written, statement_));
      }
      after = "the value of " + option;
      if (!IsSymbol(Peek(), ',') && !IsSymbol(Peek(), ')')) return Fail("',' or ')'", After(after));
      after = "','";
    } while (IsSymbol(Take(), ','));
    return Status::Ok();
  }

  // 'rows:N', 'interval:S' or both, separated by ','.
  Status FlushPolicy(CreateTable& create, std::string_view where) {
    Result<std::string> policy = String("flush policy", where);
    if (!policy.ok()) return policy.status();
    const Status invalid(Code::kInvalidSql,
                         fmt::format("Invalid FLUSH_POLICY '{}' in {}: expected 'rows:N', "
                                     "'interval:S' or 'rows:N,interval:S' with N and S positive "
                                     "integers",
                                     *policy, statement_));
    std::optional<int64_t> rows;
    std::optional<int64_t> interval;
    std::string_view rest = *policy;
    while (true) {
      const size_t comma = std::min(rest.find(','), rest.size());
      const std::string_view part = rest.substr(0, comma);
      const size_t colon = part.find(':');
      if (colon == std::string_view::npos) return invalid;
      const std::string key = Lower(std::string(Trim(part.substr(0, colon))));
      const std::optional<int64_t> value = WholeNumber(Trim(part.substr(colon + 1)));
      std::optional<int64_t>* field = key == "rows"       ? &rows
                                      : key == "interval" ? &interval
                                                          : nullptr;
      if (field == nullptr || field->has_value() || !value || *value < 1) return invalid;
      *field = value;
      if (comma == rest.size()) break;
      rest.remove_prefix(comma + 1);
    }
    if (rows) KALAM_RETURN_IF_ERROR(SetOnce(create.flush_rows, *rows, "flush row threshold"));
    if (interval) {
      KALAM_RETURN_IF_ERROR(SetOnce(create.flush_interval_secs, *interval, "flush interval"));
    }
    return Status::Ok();
  }

  // FLUSH was read: ROWS n | SECONDS n | INTERVAL n[s] [ROW_THRESHOLD n].
  Status InlineFlush(CreateTable& create) {
    if (Accept("ROWS")) {
      Result<int64_t> rows = Integer(1, After("FLUSH ROWS"));
      if (!rows.ok()) return rows.status();
      return SetOnce(create.flush_rows, *rows, "flush row threshold");
    }
    const bool seconds = PeekKeyword("SECONDS");
    if (!seconds && !PeekKeyword("INTERVAL"))
      return Fail("ROWS, SECONDS or INTERVAL", After("FLUSH"));
    const std::string clause = "FLUSH " + Upper(Take().text);
    Result<int64_t> interval = Integer(1, After(clause));
    if (!interval.ok()) return interval.status();
    KALAM_RETURN_IF_ERROR(SetOnce(create.flush_interval_secs, *interval, "flush interval"));
    if (seconds) return Status::Ok();
    Accept("S");  // 300s: the lexer reads the number and the unit apart
    if (!Accept("ROW_THRESHOLD")) return Status::Ok();
    Result<int64_t> rows = Integer(1, After("ROW_THRESHOLD"));
    if (!rows.ok()) return rows.status();
    return SetOnce(create.flush_rows, *rows, "flush row threshold");
  }

  // 'user' | 'shared' | 'stream' (or a word), which must agree with a kind given before.
  Status Kind(CreateTable& create, std::string_view where) {
    Result<std::string> kind = Name("a table type", where);
    if (!kind.ok()) return kind.status();
    *kind = Lower(std::move(*kind));
    if (*kind != "user" && *kind != "shared" && *kind != "stream") {
      return Status(Code::kInvalidSql,
                    fmt::format("Invalid table type '{}' in {}: expected USER, SHARED or STREAM",
                                *kind, statement_));
    }
    if (create.kind && *create.kind != *kind) {
      return Status(Code::kInvalidSql, fmt::format("The table type is given as {} and as {} in {}",
                                                   Upper(*create.kind), Upper(*kind), statement_));
    }
    create.kind = std::move(*kind);
    return Status::Ok();
  }

  Status AccessLevel(CreateTable& create, std::string_view where) {
    Result<std::string> level = Name("an access level", where);
    if (!level.ok()) return level.status();
    *level = Lower(std::move(*level));
    if (*level != "public" && *level != "private") {
      return Status(Code::kInvalidSql,
                    fmt::format("Invalid access level '{}' in {}: expected 'public' or 'private'",
                                *level, statement_));
    }
    return SetOnce(create.access_level, std::move(*level), "access level");
  }

  std::vector<Token> tokens_;  // ends with kEnd
  std::string statement_;      // its leading keywords, e.g. "CREATE NAMESPACE"
  size_t next_;                // the next token to read
};

using ParseFunction = Result<KalamStatement> (Parser::*)();

// CREATE USER TABLE t, not CREATE USER table WITH PASSWORD ... (a user named "table").
bool ContinuesCreateUserTable(const Token& next) {
  return next.kind != TokenKind::kEnd && !IsSymbol(next, ';') && !IsKeyword(next, "WITH") &&
         !IsKeyword(next, "PASSWORD") && !IsKeyword(next, "ROLE") && !IsKeyword(next, "EMAIL");
}

// DROP USER TABLE t, not DROP USER table.
bool ContinuesDropUserTable(const Token& next) {
  return next.kind != TokenKind::kEnd && !IsSymbol(next, ';');
}

// DESCRIBE t, not DESCRIBE SELECT ... nor DESCRIBE (SELECT ...), which are the engine's.
bool ContinuesDescribeTable(const Token& next) {
  if (next.kind == TokenKind::kQuotedIdentifier) return true;
  if (next.kind != TokenKind::kWord) return false;
  for (const std::string_view query : {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "PIVOT",
                                       "UNPIVOT", "SUMMARIZE", "DESCRIBE", "DESC", "SHOW"}) {
    if (IsKeyword(next, query)) return false;
  }
  return true;
}

struct Form {
  std::string_view keywords;  // the leading keywords, as messages name the statement
  ParseFunction parse;
  // Whether the token after the keywords makes the statement this form rather than another
  // that starts with the same words; nullptr: always. Longer forms come first.
  bool (*continues)(const Token& next) = nullptr;
};

constexpr Form kForms[] = {
    {"CREATE NAMESPACE", &Parser::ParseCreateNamespace},
    {"CREATE SCHEMA", &Parser::ParseCreateNamespace},
    {"DROP NAMESPACE", &Parser::ParseDropNamespace},
    {"DROP SCHEMA", &Parser::ParseDropNamespace},
    {"ALTER NAMESPACE", &Parser::ParseAlterNamespace},
    {"SHOW NAMESPACES", &Parser::ParseShowNamespaces},
    {"SHOW STORAGES", &Parser::ParseShowStorages},
    {"CREATE USER TABLE", &Parser::ParseCreateUserTable, &ContinuesCreateUserTable},
    {"CREATE USER", &Parser::ParseCreateUser},
    {"ALTER USER", &Parser::ParseAlterUser},
    {"DROP USER TABLE", &Parser::ParseDropTable, &ContinuesDropUserTable},
    {"DROP USER", &Parser::ParseDropUser},
    {"CREATE TABLE", &Parser::ParseCreateTable},
    {"CREATE SHARED TABLE", &Parser::ParseCreateSharedTable},
    {"CREATE STREAM TABLE", &Parser::ParseCreateStreamTable},
    {"DROP TABLE", &Parser::ParseDropTable},
    {"DROP SHARED TABLE", &Parser::ParseDropTable},
    {"DROP STREAM TABLE", &Parser::ParseDropTable},
    {"ALTER TABLE", &Parser::ParseAlterTable},
    {"SHOW TABLES", &Parser::ParseShowTables},
    {"SHOW STATS", &Parser::ParseShowStats},
    {"DESCRIBE TABLE", &Parser::ParseDescribeTable},
    {"DESC TABLE", &Parser::ParseDescribeTable},
    {"DESCRIBE", &Parser::ParseDescribeTable, &ContinuesDescribeTable},
    {"DESC", &Parser::ParseDescribeTable, &ContinuesDescribeTable},
};

// How many tokens the form's keywords take at the start of tokens; 0 when it is not this form.
size_t Match(const Form& form, const std::vector<Token>& tokens) {
  size_t count = 0;
  std::string_view keywords = form.keywords;
  while (!keywords.empty()) {
    const size_t space = std::min(keywords.find(' '), keywords.size());
    if (!IsKeyword(tokens[count], keywords.substr(0, space))) return 0;
    keywords.remove_prefix(std::min(space + 1, keywords.size()));
    ++count;  // tokens end with kEnd, which is no keyword: tokens[count] exists
  }
  return form.continues == nullptr || form.continues(tokens[count]) ? count : 0;
}

}  // namespace

Result<std::optional<KalamStatement>> ParseKalamStatement(std::string_view sql) {
  std::vector<Token> tokens = Tokenize(sql);
  size_t keywords = 0;
  const auto form = std::find_if(std::begin(kForms), std::end(kForms), [&](const Form& f) {
    keywords = Match(f, tokens);
    return keywords > 0;
  });
  if (form == std::end(kForms)) return std::optional<KalamStatement>();

  const std::string statement(form->keywords);
  for (const Token& token : tokens) {
    if (token.kind == TokenKind::kInvalid) {
      return Status(Code::kInvalidSql, fmt::format("{} in {}", token.text, statement));
    }
  }
  Parser parser(std::move(tokens), statement, keywords);
  Result<KalamStatement> parsed = (parser.*form->parse)();
  if (!parsed.ok()) return parsed.status();
  KALAM_RETURN_IF_ERROR(parser.ExpectEnd());
  return std::optional<KalamStatement>(std::move(*parsed));
}

}  // namespace kalam::sql
