// The subscription predicate against DuckDB itself: the router decides with RowPredicate
// which committed rows a subscription sees, and the snapshot of the same subscription is
// read by DuckDB, so the two must agree on every row, or a subscriber sees a row in its
// snapshot that its changes then contradict.
//
// What agreement means where SQL raises an error (integer overflow, a failed CAST): the
// predicate evaluates every term of the clause (there is no evaluation order to rely on:
// DuckDB reorders terms), and a row for which any term raises an error does not match.
// DuckDB, as the reference, evaluates the clause as a SELECT-list expression with its
// optimizer off, so no rewrite (constant folding, moving constants across a comparison,
// short-circuiting a filter) hides or introduces an error:
//   - that evaluation raises an error     -> the row must not match;
//   - else its value is true              -> the row must match, and so must
//                                            `SELECT count(*) ... WHERE` (optimizer on);
//   - else (false or NULL)                -> the row must not match, nor count.
#include "live/predicate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <duckdb.hpp>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "duckdb/parser/parser.hpp"
#include "query/cells.h"

namespace kalam::live {
namespace {

using store::Cell;

catalog::TableDef MakeTable() {
  catalog::TableDef def;
  def.table_num = 7;
  def.ns = "app";
  def.name = "t";
  catalog::TableSchema schema;
  uint32_t id = 1;
  for (auto [name, type] :
       std::vector<std::pair<const char*, ColumnType>>{{"b", ColumnType::kBigInt},
                                                       {"i", ColumnType::kInt},
                                                       {"d", ColumnType::kDouble},
                                                       {"s", ColumnType::kText},
                                                       {"f", ColumnType::kBoolean},
                                                       {"ts", ColumnType::kTimestamp}}) {
    catalog::ColumnDef column;
    column.id = id++;
    column.name = name;
    column.type = type;
    schema.columns.push_back(column);
  }
  def.schemas.push_back(schema);
  return def;
}

// Parses one expression as a WHERE clause would hold it.
duckdb::unique_ptr<duckdb::ParsedExpression> ParseWhere(const std::string& sql) {
  auto list = duckdb::Parser::ParseExpressionList(sql);
  if (list.size() != 1) throw std::runtime_error("not one expression: " + sql);
  return std::move(list[0]);
}

Result<std::unique_ptr<RowPredicate>> Compile(const catalog::TableDef& table,
                                              const std::string& sql) {
  return CompilePredicate(*ParseWhere(sql), table, "t");
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();

// Text that exercises byte-wise versus character-wise matching, case folding beyond
// ASCII, and LIKE's own metacharacters appearing in the data.
const std::vector<std::string> kTexts = {
    "",     "a",    "abc",    "ABC",     "Abc", "Ærø",  "ærø", "ÆRØ", "ß",          "SS",
    "ss",   "ẞ",    "straße", "STRASSE", "😀",   "a😀b",  "é",   "É",   "a%b",        "a_b",
    "a\\b", "100%", "_",      "%",       "\\",  "it's", "10",  "-5",  "2024-01-01", "İ",
    "i",    "x y",  "aaa",    "ab",      "b",   "z",    "Ω",   "ω"};

// Patterns: literal segments from the texts, %, _, backslashes (not an escape in DuckDB
// unless ESCAPE says so), non-ASCII letters in both cases.
const std::vector<std::string> kPatterns = {
    "%",  "_",  "",    "a%",  "%b",  "%a%", "_b_",   "a_b", "a\\b", "a\\%",  "%\\%",
    "\\", "%%", "_%_", "___", "Ær_", "_rø", "__rø",  "ærø", "ÆRØ",  "%ø",    "ß",
    "ss", "SS", "ẞ",   "%😀%", "a_",  "_😀_", "%a%b%", "10%", "100%", "%\\_%", "é",
    "É",  "İ",  "i",   "%'%", "ω",   "Ω",   "a%%b",  "%_",  "_%"};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <class T>
  const T& Of(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }

  int64_t Integer(bool wide) {
    static const std::vector<int64_t> edges = {0,  1,  -1,  2,         -2,        3,      7,
                                               -7, 10, 100, kInt32Max, kInt32Min, 1 << 20};
    static const std::vector<int64_t> wide_edges = {
        kInt64Max, kInt64Min, kInt64Max - 1, kInt64Min + 1, int64_t{1} << 40, int64_t{3037000500}};
    if (wide && Chance(25)) return Of(wide_edges);
    if (Chance(60)) return Of(edges);
    return std::uniform_int_distribution<int64_t>(-1000, 1000)(rng_);
  }

  double Double() {
    static const std::vector<double> edges = {0.0,   -0.0,   1.5,    -2.25, 0.1,   0.3, 3.0,
                                              1e308, -1e308, 1e-300, 2.5,   100.0, -7.0};
    if (Chance(70)) return Of(edges);
    return std::uniform_int_distribution<int>(-4000, 4000)(rng_) / 8.0;
  }

  int64_t Timestamp() {
    static const std::vector<int64_t> edges = {0, 1704067200000000, 1704067200000001, -86400000000,
                                               946684800000000};
    if (Chance(70)) return Of(edges);
    return std::uniform_int_distribution<int64_t>(0, 2000000000000000)(rng_);
  }

  std::vector<Cell> RowFor(const catalog::TableDef& table) {
    std::vector<Cell> cells;
    for (const auto& column : table.current().columns) {
      if (Chance(15)) {
        cells.emplace_back();
        continue;
      }
      switch (column.type) {
        case ColumnType::kBigInt:
          cells.emplace_back(Integer(true));
          break;
        case ColumnType::kInt:
          cells.emplace_back(std::clamp(Integer(false), kInt32Min, kInt32Max));
          break;
        case ColumnType::kDouble:
          cells.emplace_back(Double());
          break;
        case ColumnType::kText:
          cells.emplace_back(Of(kTexts));
          break;
        case ColumnType::kBoolean:
          cells.emplace_back(int64_t{Pick(2)});
          break;
        case ColumnType::kTimestamp:
          cells.emplace_back(Timestamp());
          break;
        default:
          cells.emplace_back();
          break;
      }
    }
    return cells;
  }

  // A numeric constant as SQL writes it: integer literals (DuckDB types them by the other
  // operand), decimal literals (DECIMAL, exact), doubles.
  std::string NumericConstant() {
    switch (Pick(6)) {
      case 0:
        return std::to_string(Integer(true));
      case 1:
      case 2:
        return "(" + std::to_string(Integer(false)) + ")";
      case 3:
        return Of(std::vector<std::string>{"2.5", "0.1", "0.3", "1.5", "-1.5", "100.25"});
      case 4:
        return Of(std::vector<std::string>{"CAST(1.5 AS DOUBLE)", "1e300", "CAST(0 AS DOUBLE)"});
      default:
        return "NULL";
    }
  }

  // A numeric expression holding at least one column when with_column.
  std::string Numeric(int depth, bool with_column) {
    const int choice = depth <= 0 ? Pick(2) : Pick(8);
    if (choice == 0 || (choice == 1 && with_column)) {
      return Of(std::vector<std::string>{"b", "i", "d", "_seq", "t.i", "B"});
    }
    if (choice == 1) return NumericConstant();
    if (choice <= 5) {
      const bool left_has = with_column && (Chance(50));
      std::string l = Numeric(depth - 1, left_has);
      std::string r = Numeric(depth - 1, with_column && !left_has);
      return "(" + l + " " + Of(std::vector<std::string>{"+", "-", "*", "/", "%"}) + " " + r + ")";
    }
    if (choice == 6) {
      return "CAST(" + Numeric(depth - 1, with_column) + " AS " +
             Of(std::vector<std::string>{"BIGINT", "INTEGER", "DOUBLE"}) + ")";
    }
    // Text to number: fails for most texts, which CAST raises and TRY_CAST makes NULL.
    return std::string(Chance(50) ? "CAST" : "TRY_CAST") + "(s AS " +
           Of(std::vector<std::string>{"BIGINT", "INTEGER", "DOUBLE"}) + ")";
  }

  std::string Comparison() {
    return Of(std::vector<std::string>{"=", "<>", "<", ">", "<=", ">=", "!="});
  }

  std::string InList(const std::function<std::string()>& item) {
    std::string list;
    const int n = 1 + Pick(4);
    for (int k = 0; k < n; ++k) {
      if (k > 0) list += ", ";
      list += Chance(20) ? "NULL" : item();
    }
    return list;
  }

  std::string Atom(int depth) {
    switch (Pick(12)) {
      case 0:
      case 1:
        return Numeric(depth, true) + " " + Comparison() + " " + Numeric(depth, false);
      case 2:
        return Of(std::vector<std::string>{"s", "t.s"}) + " " + Comparison() + " " +
               (Chance(80) ? Quote(Of(kTexts)) : "s");
      case 3: {
        const std::string op =
            Of(std::vector<std::string>{"LIKE", "NOT LIKE", "ILIKE", "NOT ILIKE"});
        return "s " + op + " " + (Chance(95) ? Quote(Of(kPatterns)) : "NULL");
      }
      case 4:
        return Of(std::vector<std::string>{"b", "i", "d", "s", "f", "ts"}) +
               (Chance(50) ? " IS NULL" : " IS NOT NULL");
      case 5: {
        const bool negate = Chance(40);
        if (Chance(50)) {
          return Numeric(depth - 1, true) + (negate ? " NOT IN (" : " IN (") +
                 InList([&] { return NumericConstant(); }) + ")";
        }
        return std::string("s") + (negate ? " NOT IN (" : " IN (") +
               InList([&] { return Quote(Of(kTexts)); }) + ")";
      }
      case 6:
        return Numeric(depth - 1, true) + (Chance(30) ? " NOT BETWEEN " : " BETWEEN ") +
               NumericConstant() + " AND " + NumericConstant();
      case 7:
        return Of(std::vector<std::string>{"f", "NOT f", "f = TRUE", "f <> FALSE", "f IS NULL"});
      case 8: {
        const std::string lit = Of(std::vector<std::string>{
            "TIMESTAMP '2024-01-01 00:00:00'", "TIMESTAMP '1970-01-01'", "'2024-01-01'",
            "TIMESTAMP '1969-12-31 00:00:00'", "CAST('2000-01-01 00:00:00' AS TIMESTAMP)"});
        return "ts " + Comparison() + " " + lit;
      }
      case 9:
        return "s BETWEEN " + Quote(Of(kTexts)) + " AND " + Quote(Of(kTexts));
      case 10:
        return "_seq " + Comparison() + " " + std::to_string(Integer(true));
      default:
        return Numeric(depth, true) + " " + Comparison() + " " + Numeric(depth, true);
    }
  }

  std::string Predicate(int depth) {
    if (depth <= 0 || Chance(35)) return Atom(2);
    switch (Pick(3)) {
      case 0:
        return "(" + Predicate(depth - 1) + " AND " + Predicate(depth - 1) + ")";
      case 1:
        return "(" + Predicate(depth - 1) + " OR " + Predicate(depth - 1) + ")";
      default:
        return "NOT (" + Predicate(depth - 1) + ")";
    }
  }

 private:
  std::mt19937 rng_;
};

std::string RowText(const catalog::TableDef& table, const std::vector<Cell>& cells, int64_t seq) {
  std::string out;
  const auto& columns = table.current().columns;
  for (size_t i = 0; i < columns.size(); ++i) {
    out += columns[i].name + "=" + query::CellToValue(columns[i], cells[i]).ToSQLString() + " ";
  }
  return out + "_seq=" + std::to_string(seq);
}

class PredicateVsDuckDB : public ::testing::Test {
 protected:
  PredicateVsDuckDB() : db_(nullptr), plain_(db_), optimized_(db_) {}

  void SetUp() override {
    Run(optimized_,
        "CREATE TABLE t (b BIGINT, i INTEGER, d DOUBLE, s VARCHAR, f BOOLEAN, "
        "ts TIMESTAMP, _seq BIGINT)");
    Run(plain_, "PRAGMA disable_optimizer");
  }

  static void Run(duckdb::Connection& con, const std::string& sql) {
    auto result = con.Query(sql);
    ASSERT_FALSE(result->HasError()) << sql << ": " << result->GetError();
  }

  void Load(const std::vector<Cell>& cells, int64_t seq) {
    Run(optimized_, "DELETE FROM t");
    duckdb::Appender appender(optimized_, "t");
    appender.BeginRow();
    const auto& columns = table_.current().columns;
    for (size_t i = 0; i < columns.size(); ++i) {
      appender.Append(query::CellToValue(columns[i], cells[i]));
    }
    appender.Append(duckdb::Value::BIGINT(seq));
    appender.EndRow();
    appender.Close();
  }

  enum class Outcome { kTrue, kFalseOrNull, kError, kIllTyped };

  // The reference: the clause as a SELECT-list expression, optimizer off.
  Outcome Reference(const std::string& where) {
    auto result = plain_.Query("SELECT (" + where + ") FROM t");
    if (result->HasError()) {
      const auto type = result->GetErrorType();
      if (type == duckdb::ExceptionType::BINDER || type == duckdb::ExceptionType::PARSER) {
        return Outcome::kIllTyped;
      }
      last_error_ = result->GetError();
      return Outcome::kError;
    }
    const duckdb::Value v = result->GetValue(0, 0);
    return !v.IsNull() && v.GetValue<bool>() ? Outcome::kTrue : Outcome::kFalseOrNull;
  }

  // The clause as a filter, as the snapshot runs it.
  std::optional<int64_t> FilterCount(const std::string& where) {
    auto result = optimized_.Query("SELECT count(*) FROM t WHERE " + where);
    if (result->HasError()) return std::nullopt;
    return result->GetValue(0, 0).GetValue<int64_t>();
  }

  catalog::TableDef table_ = MakeTable();
  duckdb::DuckDB db_;
  duckdb::Connection plain_;
  duckdb::Connection optimized_;
  std::string last_error_;
};

TEST_F(PredicateVsDuckDB, RandomRowsAndClausesAgree) {
  Generator gen(20240611);
  constexpr int kRows = 250;
  constexpr int kClausesPerRow = 16;
  int cases = 0, ill_typed = 0, errors = 0, matches = 0, failures = 0;
  for (int r = 0; r < kRows; ++r) {
    const std::vector<Cell> cells = gen.RowFor(table_);
    const int64_t seq = gen.Chance(20) ? 0 : gen.Integer(true);
    Load(cells, seq);
    for (int k = 0; k < kClausesPerRow; ++k) {
      const std::string where = gen.Predicate(3);
      const Outcome expected = Reference(where);
      if (expected == Outcome::kIllTyped) {
        ++ill_typed;
        continue;
      }
      ++cases;
      auto predicate = Compile(table_, where);
      if (!predicate.ok()) {
        ADD_FAILURE() << "does not compile: " << where << ": " << predicate.status().message();
        ++failures;
        continue;
      }
      const bool got = (*predicate)->Matches(cells, seq);
      errors += expected == Outcome::kError;
      matches += expected == Outcome::kTrue;
      const bool want = expected == Outcome::kTrue;
      if (got != want) {
        ++failures;
        ADD_FAILURE() << "WHERE " << where << "\n  row: " << RowText(table_, cells, seq)
                      << "\n  DuckDB: "
                      << (expected == Outcome::kError ? "error (" + last_error_ + ")"
                          : want                      ? "true"
                                                      : "false or NULL")
                      << "\n  predicate: " << (got ? "match" : "no match");
      }
      if (expected != Outcome::kError) {
        // The snapshot's filter agrees with the reference (a check of the reference).
        const auto count = FilterCount(where);
        EXPECT_EQ(count, std::optional<int64_t>(want ? 1 : 0))
            << "WHERE " << where << "\n  row: " << RowText(table_, cells, seq);
      }
      if (failures > 40) FAIL() << "too many disagreements; stopping";
    }
  }
  std::printf("%d cases: %d match, %d raise in SQL; %d ill-typed clauses skipped\n", cases, matches,
              errors, ill_typed);
  // The generator must keep producing clauses DuckDB accepts, with every outcome.
  EXPECT_GT(cases, kRows * kClausesPerRow * 8 / 10) << ill_typed << " ill-typed clauses";
  EXPECT_GT(matches, cases / 10);
  EXPECT_GT(errors, 10);
  EXPECT_LT(errors, cases / 4);
}

// Cases worth naming on their own: each is a rule the random test covers only by chance.
struct Case {
  const char* where;
  std::vector<Cell> cells;  // b, i, d, s, f, ts
  bool matches;
};

TEST(Predicate, NamedCases) {
  const catalog::TableDef table = MakeTable();
  const Cell null;
  auto row = [&](Cell b, Cell i, Cell d, Cell s) {
    return std::vector<Cell>{std::move(b), std::move(i),     std::move(d),
                             std::move(s), Cell(int64_t{1}), Cell(int64_t{0})};
  };
  const std::vector<Case> cases = {
      // Three-valued logic: NULL is neither true nor false, and NOT keeps it unknown.
      {"i = 1 OR b > 0", row(null, int64_t{1}, null, null), true},
      {"NOT (b > 0)", row(null, null, null, null), false},
      {"NOT (b > 0 AND i = 1)", row(null, int64_t{2}, null, null), true},
      {"i IN (1, NULL)", row(null, int64_t{1}, null, null), true},
      {"i IN (2, NULL)", row(null, int64_t{1}, null, null), false},
      {"i NOT IN (2, NULL)", row(null, int64_t{1}, null, null), false},
      {"NOT (i IN (2, NULL))", row(null, int64_t{1}, null, null), false},
      {"i NOT BETWEEN 5 AND NULL", row(null, int64_t{1}, null, null), true},
      // Overflow raises in SQL: no match, whichever side of OR it is on.
      {"i + 1 > 0 OR TRUE", row(null, kInt32Max, null, null), false},
      {"b * 2 <> 0", row(kInt64Max, null, null, null), false},
      {"b + 3000000000 > 0", row(null, null, null, null), false},
      {"i + 3000000000 > 0", row(null, kInt32Max, null, null), true},  // BIGINT arithmetic
      {"(i % -1) = 0", row(null, kInt32Min, null, null), false},
      // Division: / is a floating-point division; % by zero is NULL.
      {"i / 2 = 3.5", row(null, int64_t{7}, null, null), true},
      {"i / 0 > 1e308", row(null, int64_t{7}, null, null), true},
      {"(i % 0) IS NULL", row(null, int64_t{7}, null, null), true},
      // DECIMAL literals are exact.
      {"i * 0.1 = 0.3", row(null, int64_t{3}, null, null), true},
      // LIKE on characters, not bytes; ILIKE folds non-ASCII letters.
      {"s LIKE '_rø'", row(null, null, null, std::string("Ærø")), true},
      {"s LIKE '__rø'", row(null, null, null, std::string("Ærø")), false},
      {"s ILIKE 'ærø'", row(null, null, null, std::string("ÆRØ")), true},
      {"s ILIKE 'ß'", row(null, null, null, std::string("ẞ")), true},
      {"s LIKE 'a\\b'", row(null, null, null, std::string("a\\b")), true},
      {"s LIKE 'a\\%'", row(null, null, null, std::string("a%")), false},
      // A failed CAST raises; TRY_CAST gives NULL.
      {"CAST(s AS INTEGER) IS NULL", row(null, null, null, std::string("x")), false},
      {"TRY_CAST(s AS INTEGER) IS NULL", row(null, null, null, std::string("x")), true},
  };
  for (const Case& c : cases) {
    auto predicate = Compile(table, c.where);
    ASSERT_TRUE(predicate.ok()) << c.where << ": " << predicate.status().message();
    EXPECT_EQ((*predicate)->Matches(c.cells, 1), c.matches) << c.where;
  }
}

TEST(Predicate, RefusesWhatItCannotEvaluate) {
  const catalog::TableDef table = MakeTable();
  for (const char* where : {"lower(s) = 'a'", "i IN (SELECT 1)", "EXISTS (SELECT 1)",
                            "s SIMILAR TO 'a'", "i // 2 = 1", "CASE WHEN f THEN 1 END = 1",
                            // No ESCAPE: the clause is refused, never matched without it.
                            "s LIKE 'a!_b' ESCAPE '!'"}) {
    auto predicate = Compile(table, where);
    ASSERT_FALSE(predicate.ok()) << where;
    EXPECT_EQ(predicate.status().code(), Code::kUnsupported) << where;
  }
  auto unknown = Compile(table, "nope = 1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalidSql);
  auto other_table = Compile(table, "u.i = 1");
  ASSERT_FALSE(other_table.ok());
}

}  // namespace
}  // namespace kalam::live
