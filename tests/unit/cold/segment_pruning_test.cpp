// Which segments SegmentFilter keeps for a WHERE clause, judged from manifest statistics.
// Pruning a segment that holds a matching row loses rows, so the cases that must be kept
// matter as much as those pruned: OR, lossy bounds, other tables' columns.
#include <gtest/gtest.h>

#include <duckdb.hpp>
#include <string>

#include "cold/segment_pruning.h"
#include "cold_test_helpers.h"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"

namespace kalam::cold {
namespace {

using testing::Column;

const catalog::TableDef& TheTable() {
  static const catalog::TableDef table = testing::Table({{
      Column(1, "id", ColumnType::kBigInt, true),
      Column(2, "n", ColumnType::kInt),
      Column(3, "name", ColumnType::kText),
      Column(4, "ts", ColumnType::kTimestamp),
      Column(5, "d", ColumnType::kDate),
      Column(6, "score", ColumnType::kDouble),
      Column(7, "added", ColumnType::kInt),  // newer than the segments below
      Column(8, "empty", ColumnType::kInt),  // NULL in every row of them
  }});
  return table;
}

// id 10..20, n 100..200 (stored as "old_n": renamed since), name 'b'..'m', ts and d in
// January 2024, score 0..1, _seq 1000..2000.
Segment TheSegment() {
  Segment s;
  s.file = "batch-1.parquet";
  s.min_seq = 1000;
  s.max_seq = 2000;
  s.columns = {{1, "id"}, {2, "old_n"}, {3, "name"}, {4, "ts"}, {5, "d"}, {6, "score"}, {8, "empty"}};
  s.stats_json =
      R"({"id":{"min":"10","max":"20","nulls":0},"old_n":{"min":"100","max":"200","nulls":0},)"
      R"("name":{"min":"b","max":"m","nulls":0},)"
      R"("ts":{"min":"2024-01-01 00:00:00","max":"2024-01-31 00:00:00","nulls":0},)"
      R"("d":{"min":"2024-01-01","max":"2024-01-31","nulls":0},)"
      R"("score":{"min":"0.0","max":"1.0","nulls":0},"empty":{"min":null,"max":null,"nulls":4}})";
  return s;
}

// The filter for `SELECT * FROM t WHERE <where>`, or empty when there is none.
std::function<bool(const Segment&)> FilterFor(const std::string& where,
                                              const std::string& alias = "t") {
  duckdb::Parser parser;
  parser.ParseQuery("SELECT * FROM t WHERE " + where);
  EXPECT_EQ(parser.statements.size(), 1u);
  const auto& select = parser.statements[0]->Cast<duckdb::SelectStatement>();
  const auto& node = select.node->Cast<duckdb::SelectNode>();
  return SegmentFilter(TheTable(), node.where_clause.get(), alias);
}

bool Keeps(const std::string& where, const std::string& alias = "t") {
  const auto filter = FilterFor(where, alias);
  return !filter || filter(TheSegment());
}

#define EXPECT_KEPT(where) EXPECT_TRUE(Keeps(where)) << (where)
#define EXPECT_PRUNED(where) EXPECT_FALSE(Keeps(where)) << (where)

TEST(SegmentPruningTest, ComparisonsAgainstTheRange) {
  for (const char* where : {"id = 10", "id = 15", "id = 20", "id < 11", "id <= 10", "id > 19",
                            "id >= 20", "id <> 15", "id != 10"}) {
    EXPECT_KEPT(where);
  }
  for (const char* where : {"id = 9", "id = 21", "id < 10", "id <= 9", "id > 20", "id >= 21"}) {
    EXPECT_PRUNED(where);
  }
}

TEST(SegmentPruningTest, ConstantOnTheLeftIsFlipped) {
  EXPECT_PRUNED("10 > id");
  EXPECT_PRUNED("21 <= id");
  EXPECT_PRUNED("9 = id");
  EXPECT_KEPT("10 >= id");
  EXPECT_KEPT("20 <= id");
}

TEST(SegmentPruningTest, Between) {
  EXPECT_KEPT("id BETWEEN 5 AND 10");
  EXPECT_KEPT("id BETWEEN 20 AND 30");
  EXPECT_KEPT("id BETWEEN 12 AND 13");
  EXPECT_PRUNED("id BETWEEN 0 AND 9");
  EXPECT_PRUNED("id BETWEEN 21 AND 30");
  EXPECT_KEPT("id NOT BETWEEN 12 AND 13");
}

TEST(SegmentPruningTest, AndNeedsEveryConjunctOrPrunes) {
  EXPECT_KEPT("id = 15 AND n = 150");
  EXPECT_PRUNED("id = 15 AND n = 300");
  EXPECT_PRUNED("n = 300 AND id = 15");
  EXPECT_PRUNED("id = 15 AND (n = 150 AND name = 'z')");
  EXPECT_KEPT("id = 15 AND n + 1 = 9999");  // not a bound: ignored
}

TEST(SegmentPruningTest, OrAndNotPruneOnlyWhenSafe) {
  EXPECT_KEPT("id = 5 OR id = 30");
  EXPECT_KEPT("id = 5 OR n = 150");
  EXPECT_KEPT("NOT (id = 15)");
  EXPECT_KEPT("NOT (id = 15 AND n = 300)");
  // The parser turns NOT over one comparison into the opposite comparison: usable.
  EXPECT_KEPT("NOT id < 15");
  EXPECT_PRUNED("NOT id < 100");
  EXPECT_KEPT("(id = 5 OR id = 30) AND n = 150");
  EXPECT_PRUNED("(id = 5 OR id = 30) AND n = 300");  // the AND's other side still prunes
  EXPECT_FALSE(FilterFor("id = 5 OR id = 30"));     // nothing usable: no filter at all
}

TEST(SegmentPruningTest, SeqBounds) {
  EXPECT_PRUNED("_seq > 2000");
  EXPECT_PRUNED("_seq < 1000");
  EXPECT_PRUNED("_seq BETWEEN 0 AND 999");
  EXPECT_KEPT("_seq >= 2000");
  EXPECT_KEPT("_seq <= 1000");
  EXPECT_KEPT("_seq BETWEEN 1500 AND 1600");
  EXPECT_PRUNED("t._seq = 999");
  EXPECT_KEPT("_SEQ > 1999");
}

TEST(SegmentPruningTest, TextAndTemporalColumns) {
  EXPECT_KEPT("name = 'b'");
  EXPECT_KEPT("name = 'c'");
  EXPECT_KEPT("name >= 'm'");
  EXPECT_PRUNED("name = 'a'");
  EXPECT_PRUNED("name = 'mz'");
  EXPECT_PRUNED("name > 'm'");
  EXPECT_PRUNED("name < 'b'");
  EXPECT_KEPT("ts > '2024-01-15'");
  EXPECT_KEPT("ts >= TIMESTAMP '2024-01-31 00:00:00'");
  EXPECT_PRUNED("ts > TIMESTAMP '2024-01-31 00:00:00'");
  EXPECT_PRUNED("ts < '2023-12-31'");
  EXPECT_KEPT("d = DATE '2024-01-31'");
  EXPECT_PRUNED("d > DATE '2024-01-31'");
}

// The query compares in the wider type: a bound the column's type can't hold exactly must
// not be rounded into a tighter one.
TEST(SegmentPruningTest, BoundsTheColumnTypeCannotHoldDoNotPruneWrongly) {
  EXPECT_KEPT("n > 199.5");    // n = 200 matches; rounded to 200, n > 200 would prune
  EXPECT_KEPT("n < 100.4");    // n = 100 matches; rounded to 100, n < 100 would prune
  EXPECT_KEPT("n <= 100.0");   // exact: kept on its own merit
  EXPECT_PRUNED("n > 200.0");  // exact in INT: still used
  EXPECT_KEPT("n < 3000000000");     // wider than INT: every row matches
  EXPECT_KEPT("n > -3000000000");
  EXPECT_KEPT("d < TIMESTAMP '2024-01-01 12:00:00'");   // d = 2024-01-01 is before noon
  EXPECT_KEPT("id = '15'");  // text read as the column's type
  EXPECT_PRUNED("id = '30'");
  EXPECT_KEPT("id = CAST(15 AS VARCHAR)");
}

TEST(SegmentPruningTest, ColumnsWithoutUsableStatisticsNeverPrune) {
  EXPECT_KEPT("added = 5");     // the segment predates the column
  EXPECT_KEPT("empty = 5");     // all NULL: no min or max
  EXPECT_KEPT("score > 1e9");   // floating point: statistics order not trusted
  EXPECT_KEPT("id = NULL");
  EXPECT_KEPT("id IS NULL");
  EXPECT_KEPT("id < n");        // two columns
  EXPECT_KEPT("id = TRY_CAST('x' AS BIGINT)");
}

TEST(SegmentPruningTest, RenamedColumnsReadTheirStatisticsByIdentity) {
  EXPECT_PRUNED("n = 300");  // stored as old_n
  EXPECT_KEPT("n = 150");
  EXPECT_KEPT("old_n = 300");  // not a column of the table any more
}

TEST(SegmentPruningTest, OnlyThisTablesColumnsPrune) {
  EXPECT_PRUNED("t.id = 5");
  EXPECT_PRUNED("T.ID = 5");
  EXPECT_KEPT("other.id = 5");            // another table's id
  EXPECT_KEPT("ns.t.id = 5");             // qualified past the alias: not recognised
  EXPECT_KEPT("nope = 5");                // no such column
  EXPECT_TRUE(Keeps("t.id = 5", "x"));    // t is not this table's name in the query
  EXPECT_FALSE(Keeps("x.id = 5", "x"));
  EXPECT_FALSE(Keeps("id = 5", "x"));
}

TEST(SegmentPruningTest, EachSegmentJudgedOnItsOwnStatistics) {
  Segment low = TheSegment();
  Segment high = TheSegment();
  high.stats_json = R"({"id":{"min":"30","max":"40","nulls":0}})";
  high.min_seq = 3000;
  high.max_seq = 4000;
  Segment unknown = TheSegment();
  unknown.stats_json = "{}";
  const auto filter = FilterFor("id = 35");
  ASSERT_TRUE(filter);
  EXPECT_FALSE(filter(low));
  EXPECT_TRUE(filter(high));
  EXPECT_TRUE(filter(unknown));
  const auto by_seq = FilterFor("_seq >= 2500");
  ASSERT_TRUE(by_seq);
  EXPECT_FALSE(by_seq(low));
  EXPECT_TRUE(by_seq(high));
}

TEST(SegmentPruningTest, NoWhereNoFilter) {
  EXPECT_FALSE(SegmentFilter(TheTable(), nullptr, "t"));
}

}  // namespace
}  // namespace kalam::cold
