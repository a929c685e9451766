// CREATE / DROP / ALTER TABLE, SHOW TABLES, DESCRIBE [TABLE], SHOW STATS FOR TABLE.
#include "sql/statement_parser.h"

#include <algorithm>
#include <array>

namespace kalam::sql {
namespace {

// The column types, each with its aliases.
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

}  // namespace

// The column list, then WITH (...) and the older inline options, in any order.
Result<KalamStatement> StatementParser::ParseCreateTable(std::optional<std::string> kind) {
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

Result<KalamStatement> StatementParser::ParseDropTable() {
  DropTable drop;
  drop.if_exists = AcceptIfExists();
  Result<TableName> table = QualifiedName(After(drop.if_exists ? "IF EXISTS" : ""));
  if (!table.ok()) return table.status();
  drop.table = std::move(*table);
  return KalamStatement(std::move(drop));
}

Result<KalamStatement> StatementParser::ParseAlterTable() {
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

Result<KalamStatement> StatementParser::ParseShowTables() {
  ShowTables show;
  if (PeekKeyword("IN") || PeekKeyword("FROM")) {
    const std::string keyword = Upper(Take().text);
    Result<std::string> ns = Identifier("a namespace name", After(keyword));
    if (!ns.ok()) return ns.status();
    show.ns = std::move(*ns);
  }
  return KalamStatement(std::move(show));
}

Result<KalamStatement> StatementParser::ParseDescribeTable() {
  DescribeTable describe;
  Result<TableName> table = QualifiedName(After(""));
  if (!table.ok()) return table.status();
  describe.table = std::move(*table);
  describe.history = Accept("HISTORY");
  return KalamStatement(std::move(describe));
}

Result<KalamStatement> StatementParser::ParseShowStats() {
  KALAM_RETURN_IF_ERROR(Expect("FOR", After("")));
  KALAM_RETURN_IF_ERROR(Expect("TABLE", After("FOR")));
  Result<TableName> table = QualifiedName(After("FOR TABLE"));
  if (!table.ok()) return table.status();
  return KalamStatement(ShowStats{std::move(*table)});
}

// '(' column definitions and PRIMARY KEY (c), separated by ',' ')'. Sets primary_key and
// not_null on the one primary key column.
Status StatementParser::ColumnList(CreateTable& create) {
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
Result<StatementParser::ColumnDefinition> StatementParser::Column(std::string_view what, std::string_view where,
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
Status StatementParser::Type(ColumnSpec& spec) {
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
Result<std::string> StatementParser::Default(const std::string& column) {
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
Status StatementParser::WithOptions(CreateTable& create) {
  KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After("WITH")));
  std::string after = "'('";
  do {
    const std::string written = Peek().text;
    const bool quoted = Peek().kind == TokenKind::kString;
    Result<std::string> key = OptionKey(After(after));
    if (!key.ok()) return key.status();
    const std::string option = fmt::format("option '{}'", *key);
    KALAM_RETURN_IF_ERROR(ExpectSymbol('=', After(UnconfirmedOption(quoted, option))));
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
Status StatementParser::FlushPolicy(CreateTable& create, std::string_view where) {
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
Status StatementParser::InlineFlush(CreateTable& create) {
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
Status StatementParser::Kind(CreateTable& create, std::string_view where) {
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

Status StatementParser::AccessLevel(CreateTable& create, std::string_view where) {
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

}  // namespace kalam::sql
