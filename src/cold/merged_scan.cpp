#include "cold/merged_scan.h"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "common/text.h"
#include "query/cells.h"
#include "query/row_mapping.h"
#include "query/table_scan.h"

namespace kalam::cold {

namespace fs = std::filesystem;
using catalog::TableDef;
using query::EngineType;
using query::kTableScanFunction;
using query::LiteralDefault;

std::optional<std::pair<duckdb::Value, duckdb::Value>> SegmentRange(const Segment& segment,
                                                                   const catalog::ColumnDef& column) {
  const auto name = segment.ColumnName(column.id);
  if (!name) return std::nullopt;
  const auto range = segment.ColumnRange(*name);
  if (!range) return std::nullopt;
  try {
    const duckdb::LogicalType type = EngineType(column);
    return std::make_pair(duckdb::Value(range->first).DefaultCastAs(type),
                          duckdb::Value(range->second).DefaultCastAs(type));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

namespace {

std::string Typed(const std::string& expr, const catalog::ColumnDef& c) {
  return "CAST(" + expr + " AS " + EngineType(c).ToString() + ") AS " + QuotedIdentifier(c.name);
}

}  // namespace

// A segment's rows under the current schema, read by column id: the columns, _seq and
// _deleted (and extra, when given, after them).
std::string SegmentSelect(const TableDef& table, const std::string& scope_dir,
                          const Segment& segment, const std::string& extra) {
  std::string select = "SELECT ";
  for (const auto& c : table.current().columns) {
    // A column added after the segment was written reads as its literal default, as
    // older hot rows do.
    std::string source = "NULL";
    if (auto literal = LiteralDefault(c.default_expr)) source = literal->ToSQLString();
    if (auto name = segment.ColumnName(c.id)) source = QuotedIdentifier(*name);
    select += Typed(source, c) + ", ";
  }
  return select + "_seq, _deleted" + extra + " FROM read_parquet(" +
         SqlString((fs::path(scope_dir) / segment.file).string()) + ")";
}

// Every segment's rows, UNION ALL'd.
std::string SegmentsSql(const TableDef& table, const std::string& scope_dir,
                        const Manifest& manifest) {
  std::string all;
  for (const auto& segment : manifest.segments) {
    all += (all.empty() ? "" : " UNION ALL ") + SegmentSelect(table, scope_dir, segment);
  }
  return all;
}


namespace {

// The hot rows of a scope, as the plain scan gives them, under the current schema.
std::string HotSql(const TableDef& table, const std::string& scan_args) {
  std::string hot = "SELECT ";
  for (const auto& c : table.current().columns) hot += Typed(QuotedIdentifier(c.name), c) + ", ";
  return hot + "_seq FROM " + std::string(kTableScanFunction) + "(" + SqlString(table.id()) + ", false" + scan_args + ")";
}

// The cold rows of a scope that no newer version hides (see MergedScanSql); empty when no
// segment may hold any. scan_args: what names the scope to the scans of its hot keys.
std::string ColdSql(const TableDef& table, const std::string& scan_args, const std::string& scope_dir,
                    const Manifest& manifest, const std::function<bool(const Segment&)>& may_match,
                    std::optional<int64_t> visible_seq) {
  // A transaction reads the versions committed up to its snapshot: later segments' rows
  // neither show nor hide older versions.
  const std::string visible = visible_seq ? " WHERE _seq <= " + std::to_string(*visible_seq) : "";
  auto too_new = [&](const Segment& segment) { return visible_seq && segment.min_seq > *visible_seq; };
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  const catalog::ColumnDef& key = columns[pk];
  std::string names;
  for (const auto& c : columns) names += QuotedIdentifier(c.name) + ", ";

  // Cold rows: the segments the filters may match, minus the keys that have a newer
  // version: in the hot store (rows and tombstones), or in a later segment that shares
  // keys with earlier ones (overlaps_earlier). Tombstones hide only older versions, so
  // they go after that.
  const int64_t kHotRank = std::numeric_limits<int32_t>::max();
  bool any_overlap = false;
  std::string rows;
  std::vector<std::pair<duckdb::Value, duckdb::Value>> ranges;  // of the keys read
  bool range_known = true;
  for (size_t i = 0; i < manifest.segments.size(); ++i) {
    const Segment& segment = manifest.segments[i];
    if (too_new(segment)) continue;
    if (i > 0 && segment.overlaps_earlier) any_overlap = true;
    if (may_match && !may_match(segment)) continue;
    rows += (rows.empty() ? "" : " UNION ALL ") +
            SegmentSelect(table, scope_dir, segment, ", " + std::to_string(i) + " AS __kalam_seg") + visible;
    auto r = SegmentRange(segment, key);
    if (r) {
      ranges.push_back(std::move(*r));
    } else {
      range_known = false;
    }
  }
  if (rows.empty()) return {};
  // Hot keys outside the cold key range shadow nothing (new rows, mostly): left out, the
  // join's build side stays small or empty.
  std::string newer = "SELECT " + QuotedIdentifier(key.name) + " AS __kalam_key, " + std::to_string(kHotRank) +
                      " AS __kalam_seg FROM " + std::string(kTableScanFunction) + "(" + SqlString(table.id()) +
                      ", true" + scan_args + ")";
  if (range_known && !ranges.empty()) {
    // The segments' key ranges, overlapping ones joined (at most 32: then one range).
    std::sort(ranges.begin(), ranges.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<duckdb::Value, duckdb::Value>> joined;
    for (auto& r : ranges) {
      if (!joined.empty() && !(joined.back().second < r.first)) {
        if (joined.back().second < r.second) joined.back().second = r.second;
      } else {
        joined.push_back(std::move(r));
      }
    }
    if (joined.size() > 32) {
      duckdb::Value high = joined.front().second;
      for (const auto& r : joined) {
        if (high < r.second) high = r.second;
      }
      joined = {{joined.front().first, high}};
    }
    const std::string type = EngineType(key).ToString();
    std::string where;
    for (const auto& [low, high] : joined) {
      where += (where.empty() ? "" : " OR ") + std::string("(") + QuotedIdentifier(key.name) + " >= CAST(" +
               SqlString(low.ToString()) + " AS " + type + ") AND " + QuotedIdentifier(key.name) + " <= CAST(" +
               SqlString(high.ToString()) + " AS " + type + "))";
    }
    newer += " WHERE " + where;
  }
  if (any_overlap) {
    for (size_t j = 1; j < manifest.segments.size(); ++j) {
      const Segment& segment = manifest.segments[j];
      if (!segment.overlaps_earlier || too_new(segment)) continue;
      const auto name = segment.ColumnName(key.id);
      newer += " UNION ALL SELECT " + Typed(name ? QuotedIdentifier(*name) : "NULL", key) +
               ", " + std::to_string(j) + " FROM read_parquet(" +
               SqlString((fs::path(scope_dir) / segment.file).string()) + ")" + visible;
    }
  }
  return "SELECT " + names + "_seq FROM (" + rows + ") AS __kalam_cold ANTI JOIN (" +
         newer + ") AS __kalam_newer ON __kalam_cold." + QuotedIdentifier(key.name) +
         " = __kalam_newer.__kalam_key" +
         (any_overlap ? " AND __kalam_newer.__kalam_seg > __kalam_cold.__kalam_seg" : "") +
         " WHERE NOT __kalam_cold._deleted";
}

}  // namespace

std::string MergedScanSql(const TableDef& table, const std::string& scope_dir, const Manifest& manifest,
                          const std::function<bool(const Segment&)>& may_match,
                          std::optional<int64_t> visible_seq) {
  if (manifest.segments.empty()) return {};
  // Hot rows are newer than any cold version of their key (a flushed row that changes
  // comes back to the hot store), so they are read as they are.
  const std::string hot = HotSql(table, "");
  const std::string cold = ColdSql(table, "", scope_dir, manifest, may_match, visible_seq);
  return cold.empty() ? hot : hot + " UNION ALL " + cold;
}

std::string EveryScopeSql(const TableDef& table, const std::vector<ScopeSegments>& cold_scopes,
                          const std::function<bool(const Segment&)>& may_match,
                          std::optional<int64_t> visible_seq) {
  std::vector<std::string> parts = {HotSql(table, ", every_scope := true")};
  for (const ScopeSegments& s : cold_scopes) {
    std::string cold = ColdSql(table, ", scope := " + SqlString(s.scope), s.dir, *s.manifest, may_match, visible_seq);
    if (!cold.empty()) parts.push_back(std::move(cold));
  }
  // A chain of UNION ALLs nests as deep as it is long, and the parser stops at a depth of
  // some hundreds: many users' parts are joined 32 at a time, in subqueries, a tree.
  constexpr size_t kFanOut = 32;
  while (parts.size() > kFanOut) {
    std::vector<std::string> joined;
    for (size_t i = 0; i < parts.size(); i += kFanOut) {
      std::string group;
      for (size_t j = i; j < std::min(parts.size(), i + kFanOut); ++j) {
        group += (group.empty() ? "" : " UNION ALL ") + parts[j];
      }
      joined.push_back("SELECT * FROM (" + group + ")");
    }
    parts = std::move(joined);
  }
  std::string all;
  for (const std::string& part : parts) all += (all.empty() ? "" : " UNION ALL ") + part;
  return all;
}

}  // namespace kalam::cold
