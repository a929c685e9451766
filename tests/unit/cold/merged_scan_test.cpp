// The merged read of hot rows and cold segments, run in an in-memory DuckDB over real
// Parquet files. The engine's hot scan (kalam_table_scan) is stood in for by a table macro
// over an ordinary table with the same columns, _seq and _deleted: its second argument
// asks for tombstones too, as the real one's does. Random fixtures (fixed seeds) are
// checked against a plain model of the rule: per key the newest version wins (hot over
// later segments over earlier ones), and a tombstone hides the key.
#include <gtest/gtest.h>

#include <duckdb.hpp>
#include "duckdb/parser/parser.hpp"
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cold/merged_scan.h"
#include "cold_test_helpers.h"
#include "query/table_scan.h"

namespace kalam::cold {
namespace {

using testing::Column;
using testing::TempDir;

// v1: id, name, old. v2: name renamed to label, old dropped, n added (default 7).
const catalog::TableDef& TheTable() {
  static const catalog::TableDef table = testing::Table({
      {Column(1, "id", ColumnType::kBigInt, true), Column(2, "name", ColumnType::kText),
       Column(4, "old", ColumnType::kText)},
      {Column(1, "id", ColumnType::kBigInt, true), Column(2, "label", ColumnType::kText),
       Column(3, "n", ColumnType::kInt, false, "7")},
  });
  return table;
}

struct Version {
  int64_t id = 0;
  std::optional<std::string> label;
  std::optional<int32_t> n;
  int64_t seq = 0;
  bool deleted = false;
};

struct Row {
  int64_t id = 0;
  std::optional<std::string> label;
  std::optional<int32_t> n;
  int64_t seq = 0;
  bool operator==(const Row&) const = default;
};

std::string Sql(const std::optional<std::string>& s) { return s ? "'" + *s + "'" : "NULL"; }
std::string Sql(const std::optional<int32_t>& v) { return v ? std::to_string(*v) : "NULL"; }

void Run(duckdb::Connection& connection, const std::string& sql) {
  auto result = connection.Query(sql);
  ASSERT_FALSE(result->HasError()) << result->GetError() << "\n" << sql;
}

std::vector<Row> Rows(duckdb::Connection& connection, const std::string& sql) {
  auto result = connection.Query("SELECT id, label, n, _seq FROM (" + sql + ") ORDER BY id, _seq");
  EXPECT_FALSE(result->HasError()) << result->GetError() << "\n" << sql;
  std::vector<Row> rows;
  if (result->HasError()) return rows;
  for (size_t i = 0; i < result->RowCount(); ++i) {
    Row r;
    r.id = result->GetValue(0, i).GetValue<int64_t>();
    if (!result->GetValue(1, i).IsNull()) r.label = result->GetValue(1, i).ToString();
    if (!result->GetValue(2, i).IsNull()) r.n = result->GetValue(2, i).GetValue<int32_t>();
    r.seq = result->GetValue(3, i).GetValue<int64_t>();
    rows.push_back(std::move(r));
  }
  return rows;
}

// A scope: cold segments (each with its versions and schema version) and hot versions.
class Scope {
 public:
  Scope() : connection_(db_) {
    Run(connection_, "CREATE TABLE hot (id BIGINT, label VARCHAR, n INTEGER, _seq BIGINT, _deleted BOOLEAN)");
    Run(connection_, std::string("CREATE MACRO ") + query::kTableScanFunction +
                         "(table_id, with_tombstones) AS TABLE SELECT id, label, n, _seq, _deleted "
                         "FROM hot WHERE with_tombstones OR NOT _deleted");
  }

  // Writes batch-<n>.parquet under the columns of schema_version and lists it.
  void AddSegment(const std::vector<Version>& versions, uint32_t schema_version, bool with_stats,
                  bool overlaps_earlier) {
    Segment s;
    s.file = "batch-" + std::to_string(manifest_.next_batch++) + ".parquet";
    s.schema_version = schema_version;
    for (const auto& c : TheTable().Version(schema_version)->columns) s.columns.emplace_back(c.id, c.name);
    s.rows = static_cast<int64_t>(versions.size());
    s.min_seq = versions.front().seq;
    s.max_seq = versions.front().seq;
    int64_t min_id = versions.front().id, max_id = versions.front().id;
    std::string values;
    for (const Version& v : versions) {
      s.min_seq = std::min(s.min_seq, v.seq);
      s.max_seq = std::max(s.max_seq, v.seq);
      min_id = std::min(min_id, v.id);
      max_id = std::max(max_id, v.id);
      values += values.empty() ? "(" : ", (";
      values += std::to_string(v.id) + ", " + Sql(v.label) + ", ";
      // v1 has `old` (dropped since) where v2 has n.
      values += schema_version == 1 ? std::string("'gone'") : Sql(v.n);
      values += ", " + std::to_string(v.seq) + ", " + (v.deleted ? "true" : "false") + ")";
    }
    const std::string columns = schema_version == 1 ? "id BIGINT, name VARCHAR, old VARCHAR"
                                                    : "id BIGINT, label VARCHAR, n INTEGER";
    Run(connection_, "CREATE TABLE seg (" + columns + ", _seq BIGINT, _deleted BOOLEAN)");
    Run(connection_, "INSERT INTO seg VALUES " + values);
    Run(connection_, "COPY seg TO '" + dir_.path() + "/" + s.file + "' (FORMAT PARQUET)");
    Run(connection_, "DROP TABLE seg");
    if (with_stats) {
      s.stats_json = R"({"id":{"min":")" + std::to_string(min_id) + R"(","max":")" +
                     std::to_string(max_id) + R"(","nulls":0}})";
    }
    s.overlaps_earlier = overlaps_earlier;
    manifest_.segments.push_back(std::move(s));
    segments_.push_back(versions);
  }

  void AddHot(const Version& v) {
    Run(connection_, "INSERT INTO hot VALUES (" + std::to_string(v.id) + ", " + Sql(v.label) + ", " +
                         Sql(v.n) + ", " + std::to_string(v.seq) + ", " + (v.deleted ? "true" : "false") + ")");
    hot_.push_back(v);
  }

  std::vector<Row> Merged(const std::function<bool(const Segment&)>& may_match = {}) {
    const std::string sql = MergedScanSql(TheTable(), dir_.path(), manifest_, may_match);
    EXPECT_FALSE(sql.empty());
    return Rows(connection_, sql);
  }

  std::vector<Row> AllSegmentRows() {
    return Rows(connection_, SegmentsSql(TheTable(), dir_.path(), manifest_));
  }

  // The rule, plainly: the newest version of each key, unless a tombstone or in a segment
  // the filter left out.
  std::vector<Row> Expected(const std::function<bool(const Segment&)>& may_match = {}) const {
    std::map<int64_t, std::pair<Version, int>> newest;  // id -> (version, segment or -1: hot)
    for (size_t i = 0; i < segments_.size(); ++i) {
      for (const Version& v : segments_[i]) newest[v.id] = {v, static_cast<int>(i)};
    }
    for (const Version& v : hot_) newest[v.id] = {v, -1};
    std::vector<Row> rows;
    for (const auto& [id, found] : newest) {
      const auto& [v, segment] = found;
      if (v.deleted) continue;
      if (segment >= 0 && may_match && !may_match(manifest_.segments[segment])) continue;
      rows.push_back(Shown(v, segment));
    }
    return rows;
  }

  // Every segment's rows, tombstones and older versions included, under today's columns.
  std::vector<Row> ExpectedSegmentRows() const {
    std::vector<Row> rows;
    for (size_t i = 0; i < segments_.size(); ++i) {
      for (const Version& v : segments_[i]) rows.push_back(Shown(v, static_cast<int>(i)));
    }
    std::sort(rows.begin(), rows.end(),
              [](const Row& a, const Row& b) { return std::tie(a.id, a.seq) < std::tie(b.id, b.seq); });
    return rows;
  }

  const Manifest& manifest() const { return manifest_; }
  const std::vector<std::vector<Version>>& segments() const { return segments_; }
  duckdb::Connection& connection() { return connection_; }

 private:
  Row Shown(const Version& v, int segment) const {
    Row r{v.id, v.label, v.n, v.seq};
    // A segment written before n existed reads n as its literal default.
    if (segment >= 0 && manifest_.segments[segment].schema_version == 1) r.n = 7;
    return r;
  }

  TempDir dir_;
  duckdb::DuckDB db_{nullptr};
  duckdb::Connection connection_;
  Manifest manifest_;
  std::vector<std::vector<Version>> segments_;
  std::vector<Version> hot_;
};

void ExpectRows(const std::vector<Row>& actual, const std::vector<Row>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].id, expected[i].id) << "row " << i;
    EXPECT_EQ(actual[i].label, expected[i].label) << "id " << expected[i].id;
    EXPECT_EQ(actual[i].n, expected[i].n) << "id " << expected[i].id;
    EXPECT_EQ(actual[i].seq, expected[i].seq) << "id " << expected[i].id;
  }
}

TEST(MergedScanTest, NewestVersionWinsAndTombstonesHide) {
  Scope scope;
  scope.AddSegment({{1, "a1", {}, 1, false}, {2, "b1", {}, 2, false}, {3, "c1", {}, 3, false},
                    {4, "d1", {}, 4, false}},
                   1, true, true);
  scope.AddSegment({{2, "b2", 20, 10, false}, {3, {}, {}, 11, true}, {5, "e2", 50, 12, false}},
                   2, true, true);
  scope.AddHot({4, "d-hot", 400, 100, false});
  scope.AddHot({5, {}, {}, 101, true});
  scope.AddHot({6, "f-hot", {}, 102, false});

  const std::vector<Row> merged = scope.Merged();
  ExpectRows(merged, scope.Expected());
  // What the model says, spelt out once: 1 from the first segment, 2 from the second, 3
  // deleted there, 4 updated hot, 5 deleted hot, 6 new hot.
  std::vector<int64_t> ids;
  for (const Row& r : merged) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 4, 6}));
}

TEST(MergedScanTest, RandomScopesAgreeWithTheModel) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 25; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Scope scope;
    int64_t seq = 1;
    std::set<int64_t> earlier_keys;
    const int segment_count = 1 + static_cast<int>(rng() % 3);
    for (int s = 0; s < segment_count; ++s) {
      std::set<int64_t> keys;
      while (keys.size() < 3 + rng() % 10) keys.insert(static_cast<int64_t>(rng() % 40) - 5);
      std::vector<Version> versions;
      bool overlaps = false;
      for (int64_t id : keys) {
        overlaps = overlaps || earlier_keys.contains(id);
        Version v;
        v.id = id;
        v.seq = seq++;
        v.deleted = rng() % 5 == 0;
        if (!v.deleted) {
          if (rng() % 4) v.label = "s" + std::to_string(s) + "k" + std::to_string(id);
          if (rng() % 4) v.n = static_cast<int32_t>(rng() % 1000) - 500;
        }
        versions.push_back(std::move(v));
      }
      earlier_keys.insert(keys.begin(), keys.end());
      // True is always safe; false only where no key was in an earlier segment.
      const bool overlaps_earlier = overlaps || rng() % 3 == 0;
      const uint32_t schema_version = s == 0 ? 1 : s == segment_count - 1 ? 2 : 1 + rng() % 2;
      scope.AddSegment(versions, schema_version, rng() % 4 != 0, overlaps_earlier);
    }
    const int hot_count = static_cast<int>(rng() % 10);
    std::set<int64_t> hot_keys;
    while (static_cast<int>(hot_keys.size()) < hot_count) hot_keys.insert(static_cast<int64_t>(rng() % 50) - 5);
    for (int64_t id : hot_keys) {
      Version v{id, "hot" + std::to_string(id), static_cast<int32_t>(id), seq++, rng() % 3 == 0};
      if (v.deleted) {
        v.label.reset();
        v.n.reset();
      }
      scope.AddHot(v);
    }

    ExpectRows(scope.Merged(), scope.Expected());
    ExpectRows(scope.AllSegmentRows(), scope.ExpectedSegmentRows());

    // Segments a filter leaves out give no rows, but their keys still hide older versions.
    const std::string left_out = scope.manifest().segments[rng() % segment_count].file;
    const auto may_match = [&](const Segment& s) { return s.file != left_out; };
    ExpectRows(scope.Merged(may_match), scope.Expected(may_match));
  }
}

TEST(MergedScanTest, NoSegmentsNoMergedSql) {
  EXPECT_EQ(MergedScanSql(TheTable(), "/nowhere", Manifest{}), "");
  EXPECT_EQ(SegmentsSql(TheTable(), "/nowhere", Manifest{}), "");
}

// Every user's rows of a table with thousands of flushed users: one statement the parser
// takes (a chain of UNION ALLs as long would nest past its depth limit), with each user's
// part in it.
TEST(MergedScanTest, EveryScopeSqlOfThousandsOfUsersParses) {
  auto manifest = std::make_shared<Manifest>();
  Segment segment;
  segment.file = "batch-1.parquet";
  segment.columns = {{1, "id"}, {2, "label"}, {3, "n"}};
  manifest->segments.push_back(segment);
  std::vector<ScopeSegments> users;
  for (int u = 0; u < 3000; ++u) users.push_back({"u" + std::to_string(u), "/cold/u" + std::to_string(u), manifest});
  const std::string sql = EveryScopeSql(TheTable(), users);
  for (const char* part : {"every_scope := true", "scope := 'u0'", "scope := 'u2999'", "/cold/u1500/batch-1.parquet"}) {
    EXPECT_NE(sql.find(part), std::string::npos) << part;
  }
  duckdb::Parser parser;
  EXPECT_NO_THROW(parser.ParseQuery(sql));
  EXPECT_EQ(parser.statements.size(), 1u);
}

TEST(MergedScanTest, SegmentRangeIsTypedAndFollowsRenames) {
  Segment s;
  s.columns = {{1, "id"}, {2, "name"}};
  s.stats_json = R"({"id":{"min":"-3","max":"12"},"name":{"min":"a","max":"q"}})";
  const auto& columns = TheTable().current().columns;  // id, label (was name), n
  const auto id = SegmentRange(s, columns[0]);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->first, duckdb::Value::BIGINT(-3));
  EXPECT_EQ(id->second, duckdb::Value::BIGINT(12));
  const auto label = SegmentRange(s, columns[1]);
  ASSERT_TRUE(label);
  EXPECT_EQ(label->second, duckdb::Value("q"));
  EXPECT_FALSE(SegmentRange(s, columns[2]));  // n: newer than the segment
  s.stats_json = R"({"id":{"min":"x","max":"12"}})";
  EXPECT_FALSE(SegmentRange(s, columns[0]));  // not a BIGINT
}

}  // namespace
}  // namespace kalam::cold
