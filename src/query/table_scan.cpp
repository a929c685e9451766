#include "query/table_scan.h"

#include <algorithm>
#include <map>

#include "duckdb/planner/expression/bound_between_expression.hpp"
#include "duckdb/planner/expression/bound_columnref_expression.hpp"
#include "duckdb/planner/expression/bound_conjunction_expression.hpp"
#include "duckdb/planner/expression/bound_comparison_expression.hpp"
#include "duckdb/planner/expression/bound_constant_expression.hpp"
#include "duckdb/planner/expression/bound_operator_expression.hpp"
#include "duckdb/planner/operator/logical_get.hpp"

#include "common/clock.h"
#include "query/cells.h"
#include "query/row_mapping.h"
#include "store/committer.h"
#include "store/kv_store.h"
#include "store/row_codec.h"
#include "store/transaction.h"

namespace kalam::query {
namespace {

using catalog::TableDef;
using catalog::TableType;

struct ScanData : duckdb::TableFunctionData {
  std::shared_ptr<const catalog::CatalogState> state;  // keeps table alive
  const TableDef* table = nullptr;
  std::string scope;
  // A read of every user's rows (the dba's and system's queries): scope is not used.
  bool every_scope = false;
  // Cluster mode: what such a read took from other nodes (null on a single server, or
  // when the statement read no user's rows elsewhere).
  std::shared_ptr<const GatheredRows> gathered;
  store::KvStore* store = nullptr;
  const ConnectionSlot* slot = nullptr;  // of the statement: its store snapshot
  int64_t min_seq = 0;  // STREAM tables: rows older than their TTL are hidden
  bool with_tombstones = false;  // the merged read wants them, to hide older cold versions
  // Set when the query's filters pin the primary key to a few values: the scan reads
  // just those keys. The filters stay in the plan, so a superset here is harmless.
  std::optional<std::vector<store::Cell>> point_keys;
  // Set when they bound the primary key to ranges (inclusive, in key order): the scan
  // reads only keys within them.
  std::optional<std::vector<std::pair<store::Cell, store::Cell>>> key_ranges;
  // `column = constant` filters on columns whose stored form compares exactly as the
  // engine compares (integers, text, timestamps, ...): rows that fail one are skipped
  // before they are copied into the engine's vectors. The filters stay in the plan.
  std::vector<std::pair<size_t, store::Cell>> equal_filters;
};

// A schema version's mapping, with which of its columns the scan reads.
struct VersionLayout : RowMapping {
  std::vector<bool> wanted;  // per version column: read by the scan
  // Per version column: tested by an equality filter. Rows are decoded for these first,
  // and whole only when they pass (most rows of a selective filter never are).
  std::vector<bool> filtered;
};

struct ScanState : duckdb::GlobalTableFunctionState {
  std::unique_ptr<store::KvStore::Cursor> cursor;  // a range scan, or
  std::vector<std::pair<std::string, std::string>> point_rows;  // (key, row) of point reads
  std::vector<std::pair<std::string, std::string>> ranges;      // [first, last] keys, or all
  size_t next_range = 0;
  size_t next_point = 0;
  // Rows other nodes sent (ScanData::gathered) this scan reads, after its own.
  std::vector<const std::pair<std::string, std::string>*> gathered;
  size_t next_gathered = 0;
  // A read of every user's rows in cluster mode: the user the cursor is in, and whether
  // that user's rows are read here (else they are skipped, and come from gathered).
  std::string user;
  bool user_here = true;
  std::vector<duckdb::column_t> column_ids;
  bool key_only = false;  // no declared column but the key is read: values stay encoded
  std::vector<std::pair<size_t, store::Cell>> equal_filters;  // ScanData's, when they apply
  std::map<uint32_t, VersionLayout> layouts;
  int64_t row_number = 0;
  store::RowVersion row;
};

const VersionLayout& LayoutFor(ScanState& state, const TableDef& table, uint32_t version) {
  auto it = state.layouts.find(version);
  if (it != state.layouts.end()) return it->second;
  auto mapping = RowMapping::For(table, version);
  if (!mapping.ok()) throw duckdb::IOException(mapping.status().message());
  VersionLayout layout;
  static_cast<RowMapping&>(layout) = std::move(mapping).value();
  layout.wanted.assign(layout.types.size(), false);
  for (const duckdb::column_t id : state.column_ids) {
    if (id < layout.source.size() && layout.source[id] >= 0) layout.wanted[layout.source[id]] = true;
  }
  layout.filtered.assign(layout.types.size(), false);
  for (const auto& [column, cell] : state.equal_filters) {
    if (layout.source[column] >= 0) layout.wanted[layout.source[column]] = layout.filtered[layout.source[column]] = true;
  }
  return state.layouts.emplace(version, std::move(layout)).first->second;
}

duckdb::unique_ptr<duckdb::FunctionData> Bind(duckdb::ClientContext& context,
                                              duckdb::TableFunctionBindInput& input,
                                              duckdb::vector<duckdb::LogicalType>& types,
                                              duckdb::vector<std::string>& names) {
  const auto& registry = input.info->Cast<ScanRegistry>();
  const ConnectionSlot& slot = registry.SlotFor(context);
  const std::string id = input.inputs[0].GetValue<std::string>();
  auto it = slot.state->tables.find(id);
  if (it == slot.state->tables.end()) throw duckdb::CatalogException("Table does not exist");
  const TableDef& table = it->second;
  Status allowed = auth::CheckRead(table, slot.caller);  // the guard checked; check again
  if (!allowed.ok()) throw duckdb::PermissionException(allowed.message());
  auto data = duckdb::make_uniq<ScanData>();
  data->state = slot.state;
  data->table = &table;
  data->scope = auth::ScopeFor(table, slot.caller);
  // Other users' rows are read only by the queries the guard made for dba and system.
  const auto every_scope = input.named_parameters.find("every_scope");
  const auto scope = input.named_parameters.find("scope");
  if (every_scope != input.named_parameters.end() && !every_scope->second.IsNull()) {
    data->every_scope = every_scope->second.GetValue<bool>();
  }
  if (scope != input.named_parameters.end() && !scope->second.IsNull()) data->scope = scope->second.GetValue<std::string>();
  if ((data->every_scope || data->scope != auth::ScopeFor(table, slot.caller)) &&
      (table.type == TableType::kShared || !IsAdmin(slot.caller.role))) {
    throw duckdb::PermissionException("Permission denied: only dba and system read other users' rows");
  }
  if (auto it = slot.gathered.find(table.table_num); it != slot.gathered.end()) data->gathered = it->second;
  data->store = registry.store;
  data->slot = &slot;
  data->with_tombstones = input.inputs.size() > 1 && input.inputs[1].GetValue<bool>();
  if (table.type == TableType::kStream && table.ttl_seconds) {
    const int64_t now_ms = NowMicros() / 1000;
    data->min_seq = store::SeqFloorAt(now_ms - *table.ttl_seconds * 1000);
  }
  for (const auto& c : table.current().columns) {
    names.push_back(c.name);
    types.push_back(EngineType(c));
  }
  names.push_back("_seq");
  types.push_back(duckdb::LogicalType::BIGINT);
  return data;
}

// Whether a column's cells equal exactly when the engine's values do: no NaN or -0.0, no
// collation, no JSON normalisation.
bool ExactEquality(ColumnType type) {
  switch (type) {
    case ColumnType::kBoolean: case ColumnType::kSmallInt: case ColumnType::kInt:
    case ColumnType::kBigInt: case ColumnType::kText: case ColumnType::kTimestamp:
    case ColumnType::kDate: case ColumnType::kUuid:
      return true;
    default:
      return false;
  }
}

// `column = constant` among the filters (leaving them in place), for ScanData::equal_filters.
void CollectEqualFilters(ScanData& data, const duckdb::LogicalGet& get,
                         const duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& filters) {
  const auto& columns = data.table->current().columns;
  const auto& column_ids = get.GetColumnIds();
  for (const auto& filter : filters) {
    if (filter->type != duckdb::ExpressionType::COMPARE_EQUAL ||
        filter->GetExpressionClass() != duckdb::ExpressionClass::BOUND_COMPARISON) {
      continue;
    }
    const auto& cmp = filter->Cast<duckdb::BoundComparisonExpression>();
    const duckdb::Expression* ref = cmp.left.get();
    const duckdb::Expression* value = cmp.right.get();
    if (ref->GetExpressionClass() != duckdb::ExpressionClass::BOUND_COLUMN_REF) std::swap(ref, value);
    if (ref->GetExpressionClass() != duckdb::ExpressionClass::BOUND_COLUMN_REF ||
        value->GetExpressionClass() != duckdb::ExpressionClass::BOUND_CONSTANT) {
      continue;
    }
    const auto& binding = ref->Cast<duckdb::BoundColumnRefExpression>();
    if (binding.depth != 0 || binding.binding.table_index != get.table_index ||
        binding.binding.column_index >= column_ids.size()) {
      continue;
    }
    const idx_t column = column_ids[binding.binding.column_index].GetPrimaryIndex();
    if (column >= columns.size() || !ExactEquality(columns[column].type)) continue;
    const duckdb::Value& constant = value->Cast<duckdb::BoundConstantExpression>().value;
    if (constant.IsNull() || constant.type() != EngineType(columns[column])) continue;
    auto cell = CellFromValue(columns[column], constant);
    if (!cell.ok() || store::IsNull(*cell)) continue;
    data.equal_filters.emplace_back(column, std::move(cell).value());
  }
}

// Recognises `pk = constant` and `pk IN (constants)` among the filters (leaving them in
// place) and turns the scan into point reads.
void PushdownFilters(duckdb::ClientContext&, duckdb::LogicalGet& get,
                     duckdb::FunctionData* bind_data,
                     duckdb::vector<duckdb::unique_ptr<duckdb::Expression>>& filters) {
  auto& data = bind_data->Cast<ScanData>();
  const auto& column_ids = get.GetColumnIds();
  CollectEqualFilters(data, get, filters);
  const int pk = data.table->current().PrimaryKeyIndex();
  if (pk < 0) return;
  auto is_pk = [&](const duckdb::Expression& e) {
    if (e.GetExpressionClass() != duckdb::ExpressionClass::BOUND_COLUMN_REF) return false;
    const auto& ref = e.Cast<duckdb::BoundColumnRefExpression>();
    return ref.depth == 0 && ref.binding.table_index == get.table_index &&
           ref.binding.column_index < column_ids.size() &&
           column_ids[ref.binding.column_index].GetPrimaryIndex() == static_cast<idx_t>(pk);
  };
  auto constant = [](const duckdb::Expression& e) -> const duckdb::Value* {
    if (e.GetExpressionClass() != duckdb::ExpressionClass::BOUND_CONSTANT) return nullptr;
    return &e.Cast<duckdb::BoundConstantExpression>().value;
  };
  const catalog::ColumnDef& key_column = data.table->current().columns[pk];
  // pk BETWEEN a AND b, (pk >= a AND pk <= b), or an OR of those: key ranges.
  auto range_of = [&](const duckdb::Expression& e) -> std::optional<std::pair<store::Cell, store::Cell>> {
    const duckdb::Value* lo = nullptr;
    const duckdb::Value* hi = nullptr;
    if (e.GetExpressionClass() == duckdb::ExpressionClass::BOUND_BETWEEN) {
      const auto& between = e.Cast<duckdb::BoundBetweenExpression>();
      if (is_pk(*between.input)) {
        lo = constant(*between.lower);
        hi = constant(*between.upper);
      }
    } else if (e.type == duckdb::ExpressionType::CONJUNCTION_AND &&
               e.GetExpressionClass() == duckdb::ExpressionClass::BOUND_CONJUNCTION) {
      for (const auto& child : e.Cast<duckdb::BoundConjunctionExpression>().children) {
        if (child->GetExpressionClass() != duckdb::ExpressionClass::BOUND_COMPARISON) continue;
        const auto& cmp = child->Cast<duckdb::BoundComparisonExpression>();
        if (!is_pk(*cmp.left) || !constant(*cmp.right)) continue;
        if (child->type == duckdb::ExpressionType::COMPARE_GREATERTHANOREQUALTO ||
            child->type == duckdb::ExpressionType::COMPARE_GREATERTHAN) {
          lo = constant(*cmp.right);
        } else if (child->type == duckdb::ExpressionType::COMPARE_LESSTHANOREQUALTO ||
                   child->type == duckdb::ExpressionType::COMPARE_LESSTHAN) {
          hi = constant(*cmp.right);
        }
      }
    }
    if (lo == nullptr || hi == nullptr) return std::nullopt;
    auto l = CellFromValue(key_column, *lo);
    auto h = CellFromValue(key_column, *hi);
    if (!l.ok() || !h.ok() || store::IsNull(*l) || store::IsNull(*h)) return std::nullopt;
    return std::make_pair(std::move(l).value(), std::move(h).value());
  };
  for (auto& filter : filters) {
    std::vector<std::pair<store::Cell, store::Cell>> ranges;
    if (filter->type == duckdb::ExpressionType::CONJUNCTION_OR &&
        filter->GetExpressionClass() == duckdb::ExpressionClass::BOUND_CONJUNCTION) {
      for (const auto& child : filter->Cast<duckdb::BoundConjunctionExpression>().children) {
        auto range = range_of(*child);
        if (!range) {
          ranges.clear();
          break;
        }
        ranges.push_back(std::move(*range));
      }
    } else if (auto range = range_of(*filter)) {
      ranges.push_back(std::move(*range));
    }
    if (!ranges.empty() && !data.key_ranges) data.key_ranges = std::move(ranges);
  }
  for (auto& filter : filters) {
    std::vector<const duckdb::Value*> values;
    if (filter->type == duckdb::ExpressionType::COMPARE_EQUAL &&
        filter->GetExpressionClass() == duckdb::ExpressionClass::BOUND_COMPARISON) {
      const auto& cmp = filter->Cast<duckdb::BoundComparisonExpression>();
      if (is_pk(*cmp.left) && constant(*cmp.right)) values.push_back(constant(*cmp.right));
      if (is_pk(*cmp.right) && constant(*cmp.left)) values.push_back(constant(*cmp.left));
    } else if (filter->type == duckdb::ExpressionType::COMPARE_IN) {
      const auto& in = filter->Cast<duckdb::BoundOperatorExpression>();
      if (in.children.empty() || !is_pk(*in.children[0])) continue;
      for (size_t i = 1; i < in.children.size(); ++i) {
        const duckdb::Value* v = constant(*in.children[i]);
        if (v == nullptr) {
          values.clear();
          break;
        }
        values.push_back(v);
      }
    }
    if (values.empty()) continue;
    std::vector<store::Cell> keys;
    for (const duckdb::Value* v : values) {
      auto cell = CellFromValue(key_column, *v);
      if (!cell.ok()) return;  // not a key value: leave the scan whole
      if (store::IsNull(*cell)) continue;
      keys.push_back(std::move(cell).value());
    }
    data.point_keys = std::move(keys);
    return;
  }
}

duckdb::virtual_column_map_t VirtualColumns(duckdb::ClientContext&,
                                            duckdb::optional_ptr<duckdb::FunctionData>) {
  duckdb::virtual_column_map_t columns;
  columns.insert({duckdb::VIRTUAL_COLUMN_START,
                  duckdb::TableColumn("_deleted", duckdb::LogicalType::BOOLEAN)});
  columns.insert({duckdb::COLUMN_IDENTIFIER_ROW_ID,
                  duckdb::TableColumn("rowid", duckdb::LogicalType::BIGINT)});
  return columns;
}

duckdb::unique_ptr<duckdb::GlobalTableFunctionState> Init(duckdb::ClientContext&,
                                                          duckdb::TableFunctionInitInput& input) {
  const auto& data = input.bind_data->Cast<ScanData>();
  auto state = duckdb::make_uniq<ScanState>();
  const store::KvStore::Snapshot* at = data.slot->StatementSnapshot(*data.store);
  const auto family =
      data.table->type == TableType::kStream ? store::Family::kStream : store::Family::kHot;
  if (data.gathered != nullptr) {
    for (const auto& row : data.gathered->rows) {
      if (data.every_scope || store::ScopeOfKey(row.first) == data.scope) state->gathered.push_back(&row);
    }
  }
  if (data.every_scope) {
    // Every user's rows: the whole table, the key filters (per user) left to the plan.
    state->cursor = data.slot->transaction != nullptr
                        ? data.slot->transaction->NewCursor(family, store::TablePrefix(data.table->table_num))
                        : data.store->NewCursor(family, store::TablePrefix(data.table->table_num), at);
  } else if (data.gathered != nullptr && !data.gathered->here(data.scope)) {
    // One user's rows another node sent: gathered holds them all.
  } else if (data.point_keys) {
    const auto& table = *data.table;
    const int pk = table.current().PrimaryKeyIndex();
    for (const auto& cell : *data.point_keys) {
      std::string key = store::ScopePrefix(table.table_num, data.scope);
      store::AppendKeyCell(key, table.current().columns[pk].type, cell);
      auto value = data.slot->transaction != nullptr ? data.slot->transaction->Get(family, key)
                                                     : data.store->Get(family, key, at);
      if (!value.ok()) throw duckdb::IOException(value.status().message());
      if (value->has_value()) state->point_rows.emplace_back(key, std::move(**value));
    }
  } else {
    const std::string prefix = store::ScopePrefix(data.table->table_num, data.scope);
    state->cursor = data.slot->transaction != nullptr ? data.slot->transaction->NewCursor(family, prefix)
                                                      : data.store->NewCursor(family, prefix, at);
    if (data.key_ranges) {
      const ColumnType type = data.table->current().columns[data.table->current().PrimaryKeyIndex()].type;
      std::vector<std::pair<std::string, std::string>> ranges;
      for (const auto& [lo, hi] : *data.key_ranges) {
        std::string first = prefix, last = prefix;
        store::AppendKeyCell(first, type, lo);
        store::AppendKeyCell(last, type, hi);
        if (first <= last) ranges.emplace_back(std::move(first), std::move(last));
      }
      std::sort(ranges.begin(), ranges.end());
      state->ranges = std::move(ranges);
      if (state->ranges.empty()) {
        state->cursor.reset();  // no key can match: nothing to read
      } else {
        state->cursor->Seek(state->ranges[0].first);
      }
    }
  }
  state->column_ids.assign(input.column_ids.begin(), input.column_ids.end());
  // A merged read's tombstones must all come through: they hide older cold versions.
  if (!data.with_tombstones) state->equal_filters = data.equal_filters;
  const int pk = data.table->current().PrimaryKeyIndex();
  const size_t declared = data.table->current().columns.size();
  state->key_only = pk >= 0 && state->equal_filters.empty() && std::none_of(state->column_ids.begin(), state->column_ids.end(),
                                            [&](duckdb::column_t id) {
                                              return id < declared && id != static_cast<duckdb::column_t>(pk);
                                            });
  return state;
}

void Scan(duckdb::ClientContext&, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  const auto& data = input.bind_data->Cast<ScanData>();
  auto& state = input.global_state->Cast<ScanState>();
  const auto& columns = data.table->current().columns;
  const size_t declared = columns.size();
  idx_t count = 0;
  std::vector<store::Cell> tombstone_cells;
  auto emit = [&](std::string_view key, std::string_view bytes) {
    store::RowVersion& row = state.row;
    Status s = store::DecodeRowHeader(bytes, row);
    if (!s.ok()) throw duckdb::IOException(s.message());
    if (row.seq < data.min_seq) return;  // STREAM rows past their TTL
    if (row.deleted && !data.with_tombstones) return;
    const VersionLayout& layout = LayoutFor(state, *data.table, row.schema_version);
    if (row.deleted || state.key_only) {
      // A tombstone (or a read of the key alone): its key, and NULL elsewhere.
      if (tombstone_cells.size() != columns.size()) tombstone_cells.assign(columns.size(), store::Cell());
      const int pk = data.table->current().PrimaryKeyIndex();
      if (pk >= 0) tombstone_cells[pk] = store::DecodeKeyCell(key, columns[pk].type);
    } else {
      if (!state.equal_filters.empty()) {
        s = store::DecodeRowCells(bytes, layout.types, row, &layout.filtered);
        if (!s.ok()) throw duckdb::IOException(s.message());
        for (const auto& [column, cell] : state.equal_filters) {
          const int source = layout.source[column];
          if ((source >= 0 ? row.cells[source] : layout.missing[column]) != cell) {
            ++state.row_number;
            return;
          }
        }
      }
      s = store::DecodeRowCells(bytes, layout.types, row, &layout.wanted);
      if (!s.ok()) throw duckdb::IOException(s.message());
    }
    for (idx_t out = 0; out < state.column_ids.size(); ++out) {
      const duckdb::column_t id = state.column_ids[out];
      auto& vector = output.data[out];
      if (id < declared) {
        const int source = layout.source[id];
        WriteCell(vector, count, columns[id],
                  row.deleted || state.key_only ? tombstone_cells[id]
                                                : source >= 0 ? row.cells[source] : layout.missing[id]);
      } else if (id == declared) {
        duckdb::FlatVector::GetData<int64_t>(vector)[count] = row.seq;
      } else if (id == duckdb::COLUMN_IDENTIFIER_ROW_ID) {
        duckdb::FlatVector::GetData<int64_t>(vector)[count] = state.row_number;
      } else {  // _deleted: true only for the tombstones a merged read asks for
        duckdb::FlatVector::GetData<bool>(vector)[count] = row.deleted;
      }
    }
    ++state.row_number;
    ++count;
  };
  // Then the rows other nodes sent.
  auto emit_gathered = [&] {
    while (state.next_gathered < state.gathered.size() && count < STANDARD_VECTOR_SIZE) {
      const auto& [key, bytes] = *state.gathered[state.next_gathered++];
      emit(key, bytes);
    }
  };
  if (!state.cursor) {
    while (state.next_point < state.point_rows.size() && count < STANDARD_VECTOR_SIZE) {
      const auto& [key, bytes] = state.point_rows[state.next_point++];
      emit(key, bytes);
    }
    emit_gathered();
    output.SetCardinality(count);
    return;
  }
  auto& cursor = *state.cursor;
  if (data.every_scope && data.gathered != nullptr) {
    // Every user's rows, in cluster mode: those of users this node does not hold are
    // skipped (a stale copy, if any), a user at a time.
    while (cursor.Valid() && count < STANDARD_VECTOR_SIZE) {
      const std::string_view user = store::ScopeOfKey(cursor.key());
      if (user != state.user) {
        state.user = user;
        state.user_here = data.gathered->here(user);
      }
      if (!state.user_here) {
        std::string next = store::TablePrefix(data.table->table_num) + state.user;
        next.push_back('\x01');
        cursor.Seek(next);
        continue;
      }
      emit(cursor.key(), cursor.value());
      cursor.Next();
    }
  } else if (state.ranges.empty()) {
    for (; cursor.Valid() && count < STANDARD_VECTOR_SIZE; cursor.Next()) emit(cursor.key(), cursor.value());
  } else {
    // Key ranges, in order: past one's last key, seek to the next one's first.
    while (cursor.Valid() && count < STANDARD_VECTOR_SIZE && state.next_range < state.ranges.size()) {
      const auto& [first, last] = state.ranges[state.next_range];
      if (cursor.key() < std::string_view(first)) {
        cursor.Seek(first);
        continue;
      }
      if (cursor.key() > std::string_view(last)) {
        ++state.next_range;
        continue;
      }
      emit(cursor.key(), cursor.value());
      cursor.Next();
    }
  }
  Status s = cursor.status();
  if (!s.ok()) throw duckdb::IOException(s.message());
  if (!cursor.Valid()) emit_gathered();
  output.SetCardinality(count);
}

}  // namespace

duckdb::TableFunction MakeTableScan(duckdb::shared_ptr<ScanRegistry> registry) {
  duckdb::TableFunction scan(kTableScanFunction,
                             {duckdb::LogicalType::VARCHAR, duckdb::LogicalType::BOOLEAN}, Scan,
                             Bind, Init);
  scan.function_info = std::move(registry);
  scan.named_parameters["scope"] = duckdb::LogicalType::VARCHAR;        // another user's rows
  scan.named_parameters["every_scope"] = duckdb::LogicalType::BOOLEAN;  // every user's
  scan.projection_pushdown = true;
  scan.get_virtual_columns = VirtualColumns;
  scan.pushdown_complex_filter = PushdownFilters;
  return scan;
}

}  // namespace kalam::query
