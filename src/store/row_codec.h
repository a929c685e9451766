// Row keys and row values of the hot store. No JSON here: rows are a compact
// binary form, keys are order-preserving.
//
// Key:   table_num (8 bytes, big endian) | scope | 0x00 | primary key
//        scope is the user_id for USER/STREAM tables and empty for SHARED tables, so a
//        user's rows of a table are one contiguous range. STREAM tables use _seq (8 bytes,
//        big endian) as the primary key.
// Value: version (u32) | _seq (i64) | flags (bit 0: deleted) | null bitmap | cells
//        cells in the order of that schema version's columns; a tombstone has no cells.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/column_type.h"
#include "common/status.h"

namespace kalam::store {

struct Int128 {
  uint64_t lo = 0;
  int64_t hi = 0;
  bool operator==(const Int128&) const = default;
};

// One value: null, an integer (booleans, integers, dates, times, timestamps), a double
// (FLOAT, DOUBLE), bytes (TEXT, BYTES, JSON) or a 128-bit integer (DECIMAL unscaled,
// UUID as the engine holds it).
using Cell = std::variant<std::monostate, int64_t, double, std::string, Int128>;

inline bool IsNull(const Cell& c) { return std::holds_alternative<std::monostate>(c); }

struct RowVersion {
  uint32_t schema_version = 0;
  int64_t seq = 0;
  bool deleted = false;
  std::vector<Cell> cells;  // empty for a tombstone
};

// The prefix of a table's rows for one scope ("" for SHARED tables).
std::string ScopePrefix(uint64_t table_num, std::string_view scope);
// The prefix of all of a table's rows, in every scope.
std::string TablePrefix(uint64_t table_num);
// Where a flushed row's key is kept: the key of a row whose newest cold version
// is live, so that key checks (duplicates, ON CONFLICT) see it. Markers sit apart from the
// rows (the table number's top bit set), so scans of hot rows never walk them.
std::string MarkerKey(std::string_view row_key);
// The prefix of all of a table's markers.
std::string MarkerTablePrefix(uint64_t table_num);
// The table number a row key (or a marker key) starts with, and whether it is a marker's;
// nullopt for a key too short to hold one.
struct KeyTable {
  uint64_t table_num = 0;
  bool marker = false;
};
std::optional<KeyTable> TableOfKey(std::string_view key);
// Appends the order-preserving encoding of a primary-key cell of the given type.
void AppendKeyCell(std::string& key, ColumnType type, const Cell& cell);
// Decodes the primary-key cell at the end of a key (inverse of AppendKeyCell).
Cell DecodeKeyCell(std::string_view key, ColumnType type);
// Decodes the scope from a key (the bytes between the table number and the 0x00).
std::string_view ScopeOfKey(std::string_view key);

// types: the column types of row.schema_version, in order.
std::string EncodeRow(const RowVersion& row, const std::vector<ColumnType>& types);
// Replaces the _seq of an encoded row (a transaction's rows get theirs at commit).
void SetRowSeq(std::string& bytes, int64_t seq);
// The header only: cheap, for version and tombstone checks.
Status DecodeRowHeader(std::string_view bytes, RowVersion& row);
// The cells, after DecodeRowHeader; types are those of row.schema_version. With wanted,
// the cells it marks false are skipped (left NULL) without copying them.
Status DecodeRowCells(std::string_view bytes, const std::vector<ColumnType>& types,
                      RowVersion& row, const std::vector<bool>* wanted = nullptr);

}  // namespace kalam::store
