#include "query/table_scan.h"

#include <map>

#include "query/cells.h"
#include "store/kv_store.h"
#include "store/row_codec.h"

namespace kalam::query {
namespace {

using catalog::TableDef;
using catalog::TableType;

struct ScanData : duckdb::TableFunctionData {
  std::shared_ptr<const catalog::CatalogState> state;  // keeps table alive
  const TableDef* table = nullptr;
  std::string scope;
  store::KvStore* store = nullptr;
};

// How rows of one schema version map onto the current columns.
struct VersionLayout {
  std::vector<ColumnType> types;     // the version's column types, for decoding
  std::vector<int> source;           // per current column: index in the version, or -1
  std::vector<store::Cell> missing;  // per current column: the cell when source is -1
};

struct ScanState : duckdb::GlobalTableFunctionState {
  std::unique_ptr<store::KvStore::Cursor> cursor;
  std::vector<duckdb::column_t> column_ids;
  std::map<uint32_t, VersionLayout> layouts;
  int64_t row_number = 0;
  store::RowVersion row;
};

const VersionLayout& LayoutFor(ScanState& state, const TableDef& table, uint32_t version) {
  auto it = state.layouts.find(version);
  if (it != state.layouts.end()) return it->second;
  VersionLayout layout;
  const catalog::TableSchema* old = table.Version(version);
  const auto& current = table.current().columns;
  if (old == nullptr) throw duckdb::IOException("A stored row has an unknown schema version");
  for (const auto& c : old->columns) layout.types.push_back(c.type);
  for (const auto& c : current) {
    int source = -1;
    for (size_t i = 0; i < old->columns.size(); ++i) {
      if (old->columns[i].id == c.id) source = static_cast<int>(i);
    }
    layout.source.push_back(source);
    store::Cell fill;
    if (source < 0) {
      if (auto literal = LiteralDefault(c.default_expr)) {
        auto cell = CellFromValue(c, *literal);
        if (cell.ok()) fill = std::move(cell).value();
      }
    }
    layout.missing.push_back(std::move(fill));
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
  Status allowed = CheckRead(table, slot.caller);  // the guard checked; check again
  if (!allowed.ok()) throw duckdb::PermissionException(allowed.message());
  auto data = duckdb::make_uniq<ScanData>();
  data->state = slot.state;
  data->table = &table;
  data->scope = ScopeFor(table, slot.caller);
  data->store = registry.store;
  for (const auto& c : table.current().columns) {
    names.push_back(c.name);
    types.push_back(EngineType(c));
  }
  names.push_back("_seq");
  types.push_back(duckdb::LogicalType::BIGINT);
  return data;
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
  const auto family =
      data.table->type == TableType::kStream ? store::Family::kStream : store::Family::kHot;
  state->cursor = data.store->NewCursor(family, store::ScopePrefix(data.table->table_num, data.scope));
  state->column_ids.assign(input.column_ids.begin(), input.column_ids.end());
  return state;
}

void Scan(duckdb::ClientContext&, duckdb::TableFunctionInput& input, duckdb::DataChunk& output) {
  const auto& data = input.bind_data->Cast<ScanData>();
  auto& state = input.global_state->Cast<ScanState>();
  const auto& columns = data.table->current().columns;
  const size_t declared = columns.size();
  idx_t count = 0;
  auto& cursor = *state.cursor;
  for (; cursor.Valid() && count < STANDARD_VECTOR_SIZE; cursor.Next()) {
    store::RowVersion& row = state.row;
    Status s = store::DecodeRowHeader(cursor.value(), row);
    if (!s.ok()) throw duckdb::IOException(s.message());
    if (row.deleted) continue;
    const VersionLayout& layout = LayoutFor(state, *data.table, row.schema_version);
    s = store::DecodeRowCells(cursor.value(), layout.types, row);
    if (!s.ok()) throw duckdb::IOException(s.message());
    for (idx_t out = 0; out < state.column_ids.size(); ++out) {
      const duckdb::column_t id = state.column_ids[out];
      auto& vector = output.data[out];
      if (id < declared) {
        const int source = layout.source[id];
        WriteCell(vector, count, columns[id], source >= 0 ? row.cells[source] : layout.missing[id]);
      } else if (id == declared) {
        duckdb::FlatVector::GetData<int64_t>(vector)[count] = row.seq;
      } else if (id == duckdb::COLUMN_IDENTIFIER_ROW_ID) {
        duckdb::FlatVector::GetData<int64_t>(vector)[count] = state.row_number;
      } else {  // _deleted: deleted rows are never visible
        duckdb::FlatVector::GetData<bool>(vector)[count] = false;
      }
    }
    ++state.row_number;
    ++count;
  }
  Status s = cursor.status();
  if (!s.ok()) throw duckdb::IOException(s.message());
  output.SetCardinality(count);
}

}  // namespace

std::string ScopeFor(const TableDef& table, const auth::Caller& caller) {
  return table.type == TableType::kShared ? std::string() : caller.user_id;
}

Status CheckRead(const TableDef& table, const auth::Caller& caller) {
  if (table.type != TableType::kShared || caller.role >= auth::Role::kService) return Status::Ok();
  if (table.access_level == "public") return Status::Ok();
  return {Code::kPermissionDenied, "Permission denied: table '" + table.ns + "." + table.name +
                                       "' is a private shared table"};
}

Status CheckWrite(const TableDef& table, const auth::Caller& caller) {
  if (table.type != TableType::kShared || caller.role >= auth::Role::kService) return Status::Ok();
  return {Code::kPermissionDenied, "Permission denied: role 'user' may not change shared table '" +
                                       table.ns + "." + table.name + "'"};
}

std::optional<duckdb::Value> LiteralDefault(const std::string& expr) {
  if (expr.empty() || expr == "NULL") return std::nullopt;
  if (expr.front() == '\'') {
    std::string text;
    for (size_t i = 1; i + 1 < expr.size(); ++i) {
      text.push_back(expr[i]);
      if (expr[i] == '\'') ++i;  // '' stands for '
    }
    return duckdb::Value(text);
  }
  if (expr.back() == ')') return std::nullopt;  // NOW(), SNOWFLAKE_ID(), ...
  return duckdb::Value(expr);                   // a number or TRUE/FALSE, cast by the caller
}

duckdb::TableFunction MakeTableScan(duckdb::shared_ptr<ScanRegistry> registry) {
  duckdb::TableFunction scan(kTableScanFunction, {duckdb::LogicalType::VARCHAR}, Scan, Bind, Init);
  scan.function_info = std::move(registry);
  scan.projection_pushdown = true;
  scan.get_virtual_columns = VirtualColumns;
  return scan;
}

}  // namespace kalam::query
