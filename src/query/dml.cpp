#include "query/dml.h"

#include <openssl/rand.h>

#include <map>
#include <mutex>
#include <set>

#include "common/text.h"
#include "common/clock.h"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/statement/delete_statement.hpp"
#include "duckdb/parser/statement/insert_statement.hpp"
#include "duckdb/parser/statement/update_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "duckdb/parser/tableref/expressionlistref.hpp"
#include "query/cells.h"
#include "query/result_encoder.h"
#include "query/row_mapping.h"
#include "query/table_scan.h"
#include "store/committer.h"
#include "store/row_codec.h"

namespace kalam::query {
namespace {

using catalog::ColumnDef;
using catalog::TableDef;
using catalog::TableType;
using store::Cell;


Result<const TableDef*> ResolveTable(const catalog::CatalogState& state,
                                     const QueryContext& context, const std::string& schema,
                                     const std::string& name) {
  return auth::LookupTable(state, Lower(schema), Lower(name), context.default_namespace);
}

Result<const TableDef*> ResolveTableRef(const catalog::CatalogState& state,
                                        const QueryContext& context, duckdb::TableRef& ref) {
  if (ref.type != duckdb::TableReferenceType::BASE_TABLE) {
    return Status(Code::kInvalidSql, "The target of a data change must be a table");
  }
  auto& base = ref.Cast<duckdb::BaseTableRef>();
  if (!base.catalog_name.empty()) {
    return Status(Code::kInvalidSql, "Catalog-qualified table names are not supported");
  }
  return ResolveTable(state, context, base.schema_name, base.table_name);
}

std::string RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n));
  return bytes;
}

std::string UuidV7() {
  std::string b = RandomBytes(16);
  const uint64_t ms = static_cast<uint64_t>(NowMicros() / 1000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>(ms >> (40 - 8 * i));
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[(b[i] >> 4) & 0xf]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

std::string Ulid() {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const uint64_t ms = static_cast<uint64_t>(NowMicros() / 1000);
  const std::string random = RandomBytes(10);
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) out[9 - i] = kCrockford[(ms >> (5 * i)) & 31];
  // 80 random bits as 16 characters of 5 bits.
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 5; ++i) hi = (hi << 8) | static_cast<uint8_t>(random[i]);
  for (int i = 5; i < 10; ++i) lo = (lo << 8) | static_cast<uint8_t>(random[i]);
  for (int i = 0; i < 8; ++i) out[10 + i] = kCrockford[(hi >> (35 - 5 * i)) & 31];
  for (int i = 0; i < 8; ++i) out[18 + i] = kCrockford[(lo >> (35 - 5 * i)) & 31];
  return out;
}

Result<Cell> DefaultCell(DmlHost& host, const QueryContext& context, const ColumnDef& column) {
  const std::string& expr = column.default_expr;
  if (expr.empty() || expr == "NULL") return Cell();
  duckdb::Value value;
  if (expr == "NOW()") {
    value = duckdb::Value::TIMESTAMP(duckdb::timestamp_t(NowMicros()));
  } else if (expr == "SNOWFLAKE_ID()") {
    value = duckdb::Value::BIGINT(host.NextSnowflakeId());
  } else if (expr == "UUID_V7()") {
    value = duckdb::Value(UuidV7());
  } else if (expr == "ULID()") {
    value = duckdb::Value(Ulid());
  } else if (expr == "CURRENT_USER()") {
    value = duckdb::Value(context.caller.user_id);
  } else if (auto literal = LiteralDefault(expr)) {
    value = *literal;
  } else {
    return Status(Code::kInternalError, "Unknown default for column '" + column.name + "'");
  }
  return CellFromValue(column, value);
}

Status CheckNotNull(const TableDef& table, const std::vector<Cell>& cells) {
  const auto& columns = table.current().columns;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (store::IsNull(cells[i]) && (!columns[i].nullable || columns[i].primary_key)) {
      return {Code::kConstraintViolation, "Column '" + columns[i].name + "' of '" + table.ns + "." +
                                              table.name + "' may not be NULL"};
    }
  }
  return Status::Ok();
}

std::string RowKey(const TableDef& table, const std::string& scope, const std::vector<Cell>& cells,
                   int64_t seq) {
  std::string key = store::ScopePrefix(table.table_num, scope);
  const int pk = table.current().PrimaryKeyIndex();
  if (pk < 0) {  // STREAM: rows are keyed by _seq
    store::AppendKeyCell(key, ColumnType::kBigInt, Cell(seq));
  } else {
    store::AppendKeyCell(key, table.current().columns[pk].type, cells[pk]);
  }
  return key;
}

std::string DescribeKey(const TableDef& table, const std::vector<Cell>& cells) {
  const int pk = table.current().PrimaryKeyIndex();
  const ColumnDef& column = table.current().columns[pk];
  return column.name + " = " + CellToValue(column, cells[pk]).ToSQLString();
}

// A row as written: its cells in current column order and its _seq.
struct WrittenRow {
  std::vector<Cell> cells;
  int64_t seq = 0;
};

// "(VALUES (..), (..)) AS alias("c1", .., "_seq")" over rows, for expressions that the
// engine evaluates against rows of the table (RETURNING, ON CONFLICT DO UPDATE).
std::string ValuesSql(const TableDef& table, const std::vector<WrittenRow>& rows,
                      const std::string& alias) {
  const auto& columns = table.current().columns;
  std::string sql = "(VALUES ";
  for (size_t r = 0; r < rows.size(); ++r) {
    if (r > 0) sql += ", ";
    sql += "(";
    for (size_t c = 0; c < columns.size(); ++c) {
      const duckdb::Value v = CellToValue(columns[c], rows[r].cells[c]);
      // A typed literal, so NULLs and every row agree on the column's type.
      sql += "CAST(" + v.ToSQLString() + " AS " + EngineType(columns[c]).ToString() + "), ";
    }
    sql += std::to_string(rows[r].seq) + "::BIGINT)";
  }
  sql += ") AS " + QuotedIdentifier(alias) + "(";
  for (const auto& c : columns) sql += QuotedIdentifier(c.name) + ", ";
  sql += "\"_seq\")";
  return sql;
}

Result<std::optional<RowSet>> Returning(DmlHost& host, const QueryContext& context,
                                        const TableDef& table, const std::string& alias,
                                        const duckdb::vector<duckdb::unique_ptr<duckdb::ParsedExpression>>& list,
                                        const std::vector<WrittenRow>& rows) {
  if (list.empty()) return std::optional<RowSet>();
  std::string select = "SELECT ";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) select += ", ";
    select += list[i]->ToString();
  }
  if (rows.empty()) {
    // No row: the right columns, none of the values.
    select += " FROM " + ValuesSql(table, {WrittenRow{std::vector<Cell>(table.current().columns.size()), 0}}, alias) + " WHERE false";
  } else {
    select += " FROM " + ValuesSql(table, rows, alias);
  }
  auto result = host.SelectCommitted(context, select);
  if (!result.ok()) return result.status();
  auto encoded = EncodeResult(**result, ResultLimits{});
  if (!encoded.ok()) return encoded.status();
  return std::optional<RowSet>(std::move(encoded).value());
}

Outcome Done(uint64_t count, const char* verb, std::optional<RowSet> returning) {
  Outcome out;
  out.row_count = count;
  out.message = std::string(verb) + " " + std::to_string(count) + " row(s)";
  if (returning) {
    out.row_count = returning->row_count;
    out.rows = std::move(returning);
  }
  return out;
}

// The source rows of an INSERT: literal VALUES directly, anything else through the engine.
// A null optional in a row stands for DEFAULT.
using SourceRow = std::vector<std::optional<duckdb::Value>>;

std::optional<std::vector<SourceRow>> LiteralValues(duckdb::InsertStatement& insert) {
  auto values = insert.GetValuesList();
  if (!values) return std::nullopt;
  std::vector<SourceRow> rows;
  rows.reserve(values->values.size());
  for (auto& list : values->values) {
    SourceRow row;
    row.reserve(list.size());
    for (auto& expr : list) {
      if (expr->GetExpressionClass() == duckdb::ExpressionClass::CONSTANT) {
        row.emplace_back(expr->Cast<duckdb::ConstantExpression>().value);
      } else if (expr->GetExpressionClass() == duckdb::ExpressionClass::DEFAULT) {
        row.emplace_back(std::nullopt);
      } else {
        return std::nullopt;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// ON CONFLICT (pk) DO NOTHING | DO UPDATE SET ...: the clause checked against the table.
Status CheckConflictClause(const duckdb::OnConflictInfo* conflict, const TableDef& table) {
  if (conflict == nullptr) return Status::Ok();
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  if (pk < 0) return Status(Code::kInvalidSql, "STREAM tables have no key to conflict on");
  for (const auto& c : conflict->indexed_columns) {
    if (Lower(c) != columns[pk].name) {
      return Status(Code::kInvalidSql, "ON CONFLICT must name the primary key '" +
                                           columns[pk].name + "', not '" + c + "'");
    }
  }
  if (conflict->action_type != duckdb::OnConflictAction::NOTHING &&
      conflict->action_type != duckdb::OnConflictAction::UPDATE) {
    return Status(Code::kInvalidSql, "ON CONFLICT supports DO NOTHING and DO UPDATE");
  }
  return Status::Ok();
}

// The target columns (current indices): those named, or all of them in order.
Result<std::vector<size_t>> InsertTargets(const duckdb::InsertStatement& insert, const TableDef& table) {
  const auto& columns = table.current().columns;
  std::vector<size_t> targets;
  if (insert.default_values) return targets;
  if (insert.columns.empty()) {
    for (size_t i = 0; i < columns.size(); ++i) targets.push_back(i);
  } else {
    for (const auto& name : insert.columns) {
      const std::string lower = Lower(name);
      size_t i = 0;
      while (i < columns.size() && columns[i].name != lower) ++i;
      if (i == columns.size()) {
        return Status(Code::kInvalidSql, "Table '" + table.ns + "." + table.name +
                                             "' has no column '" + name + "'");
      }
      if (std::find(targets.begin(), targets.end(), i) != targets.end()) {
        return Status(Code::kInvalidSql, "Column '" + name + "' is named twice");
      }
      targets.push_back(i);
    }
  }
  return targets;
}

// The source rows: literal VALUES without the engine, else the engine's SELECT (which may
// be a VALUES list with expressions).
Result<std::vector<SourceRow>> InsertSources(DmlHost& host, const QueryContext& context,
                                             duckdb::InsertStatement& insert) {
  std::vector<SourceRow> source;
  if (insert.default_values) {
    source.emplace_back();
  } else if (auto literal = LiteralValues(insert)) {
    source = std::move(*literal);
  } else {
    if (!insert.select_statement) return Status(Code::kInvalidSql, "INSERT needs VALUES or a SELECT");
    for (auto& [name, cte] : insert.cte_map.map) {
      insert.select_statement->node->cte_map.map[name] = std::move(cte);
    }
    auto result = host.Select(context, insert.select_statement->ToString());
    if (!result.ok()) return result.status();
    auto& rows = **result;
    for (idx_t r = 0; r < rows.RowCount(); ++r) {
      SourceRow row;
      for (idx_t c = 0; c < rows.ColumnCount(); ++c) row.emplace_back(rows.GetValue(c, r));
      source.push_back(std::move(row));
    }
  }
  return source;
}

// The new rows: every column given or defaulted, NOT NULL checked.
Result<std::vector<WrittenRow>> CompleteRows(DmlHost& host, const QueryContext& context,
                                             const TableDef& table, const std::vector<size_t>& targets,
                                             const std::vector<SourceRow>& source) {
  const auto& columns = table.current().columns;
  std::vector<WrittenRow> rows;
  rows.reserve(source.size());
  for (const SourceRow& src : source) {
    if (src.size() != targets.size()) {
      return Status(Code::kInvalidSql, "INSERT has " + std::to_string(targets.size()) +
                                           " target column(s) but " + std::to_string(src.size()) +
                                           " value(s)");
    }
    WrittenRow row;
    row.cells.resize(columns.size());
    std::vector<bool> given(columns.size(), false);
    for (size_t k = 0; k < targets.size(); ++k) {
      if (!src[k]) continue;  // DEFAULT
      auto cell = CellFromValue(columns[targets[k]], *src[k]);
      if (!cell.ok()) return cell.status();
      row.cells[targets[k]] = std::move(cell).value();
      given[targets[k]] = true;
    }
    for (size_t i = 0; i < columns.size(); ++i) {
      if (given[i]) continue;
      auto cell = DefaultCell(host, context, columns[i]);
      if (!cell.ok()) return cell.status();
      row.cells[i] = std::move(cell).value();
    }
    KALAM_RETURN_IF_ERROR(CheckNotNull(table, row.cells));
    rows.push_back(std::move(row));
  }

  return rows;
}

// The stored rows an upsert's new rows run into, each with the new row it meets and its key.
struct Conflicts {
  std::vector<WrittenRow> existing, excluded;
  std::vector<std::string> keys;
};

// REQUIRES: the table is held exclusively (the rows read here are the rows replaced).
Result<Conflicts> ReadConflicts(DmlHost& host, const QueryContext& context, const TableDef& table,
                                const std::string& scope, const std::vector<WrittenRow>& rows) {
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  Conflicts found;
  auto& [existing, excluded, keys] = found;
  for (const auto& row : rows) {
    const std::string key = RowKey(table, scope, row.cells, 0);
    auto stored = host.Read(context, store::Family::kHot, key);
    if (!stored.ok()) return stored.status();
    store::RowVersion version;
    bool in_cold = false;  // only the key is hot (a marker): the row is in a cold segment
    if (stored->has_value()) {
      KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(**stored, version));
    } else {
      auto marker = host.Read(context, store::Family::kHot, store::MarkerKey(key));
      if (!marker.ok()) return marker.status();
      if (!marker->has_value()) continue;
      in_cold = true;
    }
    if (version.deleted) continue;
    if (in_cold) {
      // The row lives in a cold segment: read it through the merged scan.
      const ColumnDef& key_column = columns[pk];
      auto found = host.Select(context, "SELECT * FROM " + QuotedIdentifier(table.ns) + "." +
                                            QuotedIdentifier(table.name) + " WHERE " +
                                            QuotedIdentifier(key_column.name) + " = " +
                                            CellToValue(key_column, row.cells[pk]).ToSQLString());
      if (!found.ok()) return found.status();
      if ((*found)->RowCount() == 0) continue;
      WrittenRow old;
      for (size_t c = 0; c < columns.size(); ++c) {
        auto cell = CellFromValue(columns[c], (*found)->GetValue(c, 0));
        if (!cell.ok()) return cell.status();
        old.cells.push_back(std::move(cell).value());
      }
      old.seq = (*found)->GetValue(columns.size(), 0).GetValue<int64_t>();
      existing.push_back(std::move(old));
      excluded.push_back(row);
      keys.push_back(key);
      continue;
    }
    auto current = DecodeCurrentRow(table, **stored);
    if (!current.ok()) return current.status();
    WrittenRow old;
    old.seq = (*current)->seq;
    old.cells = std::move((*current)->cells);
    existing.push_back(std::move(old));
    excluded.push_back(row);
    keys.push_back(key);
  }
  return found;
}

// DO UPDATE SET ... [WHERE ...] over the conflicts: the replacement of each row the
// condition accepts (updates) and the row it replaces (replaced), by key.
Status ComputeUpdates(DmlHost& host, const QueryContext& context, const TableDef& table,
                      const duckdb::OnConflictInfo& conflict, const Conflicts& found,
                      std::map<std::string, WrittenRow>& updates,
                      std::map<std::string, WrittenRow>& replaced) {
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  const auto& [existing, excluded, keys] = found;
  if (!existing.empty()) {
    const auto& set = *conflict.set_info;
    std::string select = "SELECT ";
    const auto* condition = set.condition ? set.condition.get() : conflict.condition.get();
    select += condition ? "(" + condition->ToString() + ")" : std::string("true");
    for (const auto& e : set.expressions) select += ", " + e->ToString();
    // Row i of each side pairs up through a row number.
    std::vector<WrittenRow> numbered_old = existing, numbered_new = excluded;
    for (size_t i = 0; i < existing.size(); ++i) {
      numbered_old[i].seq = static_cast<int64_t>(i);
      numbered_new[i].seq = static_cast<int64_t>(i);
    }
    select += " FROM " + ValuesSql(table, numbered_old, table.name) + " JOIN " +
              ValuesSql(table, numbered_new, "excluded") + " ON " + QuotedIdentifier(table.name) +
              "._seq = excluded._seq ORDER BY " + QuotedIdentifier(table.name) + "._seq";
    auto result = host.Select(context, select);
    if (!result.ok()) return result.status();
    auto& out = **result;
    for (idx_t r = 0; r < out.RowCount(); ++r) {
      const duckdb::Value apply = out.GetValue(0, r);
      if (apply.IsNull() || !apply.GetValue<bool>()) continue;
      WrittenRow updated = existing[r];
      for (size_t k = 0; k < set.columns.size(); ++k) {
        const std::string name = Lower(set.columns[k]);
        size_t i = 0;
        while (i < columns.size() && columns[i].name != name) ++i;
        if (i == columns.size()) {
          return Status(Code::kInvalidSql, "Table '" + table.ns + "." + table.name +
                                               "' has no column '" + set.columns[k] + "'");
        }
        if (static_cast<int>(i) == pk) {
          return Status(Code::kInvalidSql, "The primary key can't be updated");
        }
        auto cell = CellFromValue(columns[i], out.GetValue(k + 1, r));
        if (!cell.ok()) return cell.status();
        updated.cells[i] = std::move(cell).value();
      }
      KALAM_RETURN_IF_ERROR(CheckNotNull(table, updated.cells));
      replaced[keys[r]] = existing[r];
      updates[keys[r]] = std::move(updated);
    }
  }
  return Status::Ok();
}

}  // namespace

const catalog::TableDef* WrittenTable(const catalog::CatalogState& state, const QueryContext& context,
                                      duckdb::SQLStatement& statement) {
  Result<const TableDef*> found = static_cast<const TableDef*>(nullptr);
  switch (statement.type) {
    case duckdb::StatementType::INSERT_STATEMENT: {
      const auto& insert = statement.Cast<duckdb::InsertStatement>();
      found = ResolveTable(state, context, insert.schema, insert.table);
      break;
    }
    case duckdb::StatementType::UPDATE_STATEMENT:
      found = ResolveTableRef(state, context, *statement.Cast<duckdb::UpdateStatement>().table);
      break;
    case duckdb::StatementType::DELETE_STATEMENT:
      found = ResolveTableRef(state, context, *statement.Cast<duckdb::DeleteStatement>().table);
      break;
    default: break;
  }
  return found.ok() ? *found : nullptr;
}

Result<Outcome> RunInsert(DmlHost& host, const QueryContext& context,
                          const catalog::CatalogState& state, duckdb::InsertStatement& insert) {
  if (!insert.catalog.empty()) {
    return Status(Code::kInvalidSql, "Catalog-qualified table names are not supported");
  }
  auto resolved = ResolveTable(state, context, insert.schema, insert.table);
  if (!resolved.ok()) return resolved.status();
  const TableDef& table = **resolved;
  KALAM_RETURN_IF_ERROR(auth::CheckWrite(table, context.caller));
  const int pk = table.current().PrimaryKeyIndex();
  const auto* conflict = insert.on_conflict_info.get();
  KALAM_RETURN_IF_ERROR(CheckConflictClause(conflict, table));
  if (insert.column_order != duckdb::InsertColumnOrder::INSERT_BY_POSITION) {
    return Status(Code::kInvalidSql, "INSERT BY NAME is not supported");
  }
  auto targets = InsertTargets(insert, table);
  if (!targets.ok()) return targets.status();
  auto source = InsertSources(host, context, insert);
  if (!source.ok()) return source.status();
  auto completed = CompleteRows(host, context, table, *targets, *source);
  if (!completed.ok()) return completed.status();
  std::vector<WrittenRow>& rows = *completed;

  const std::string scope = auth::ScopeFor(table, context.caller);
  const bool do_update = conflict != nullptr && conflict->action_type == duckdb::OnConflictAction::UPDATE;
  // An upsert reads the rows it replaces: nobody may change them meanwhile.
  std::shared_mutex& lock = host.TableLock(table.table_num);
  std::unique_lock<std::shared_mutex> exclusive(lock, std::defer_lock);
  std::shared_lock<std::shared_mutex> shared(lock, std::defer_lock);
  if (do_update) {
    exclusive.lock();
  } else {
    shared.lock();
  }
  std::map<std::string, WrittenRow> updates;   // key -> replacement
  std::map<std::string, WrittenRow> replaced;  // key -> the row it replaces (for live queries)
  if (do_update) {
    auto found = ReadConflicts(host, context, table, scope, rows);
    if (!found.ok()) return found.status();
    if (!found->existing.empty()) {
      KALAM_RETURN_IF_ERROR(ComputeUpdates(host, context, table, *conflict, *found, updates, replaced));
    }
  }

  const std::vector<ColumnType> types = CurrentTypes(table);
  const uint32_t version = table.current().version;
  const auto family = table.type == TableType::kStream ? store::Family::kStream : store::Family::kHot;
  std::vector<WrittenRow> written;
  std::set<std::string> keys_written;
  Status committed = host.Write(context, [&](store::Writer& commit) -> Status {
    written.clear();
    keys_written.clear();
    store::ChangeEvent inserted{table.id(), scope, store::ChangeEvent::Kind::kInsert, version, {}, {}};
    store::ChangeEvent upserted{table.id(), scope, store::ChangeEvent::Kind::kUpdate, version, {}, {}};
    for (auto& row : rows) {
      const int64_t seq = commit.NextSeq();
      const std::string key = RowKey(table, scope, row.cells, seq);
      WrittenRow out{row.cells, seq};
      if (pk >= 0 && conflict != nullptr && !keys_written.insert(key).second) {
        // As in PostgreSQL: one statement may not change a row twice.
        return Status(Code::kConstraintViolation,
                      "The statement inserts primary key " + DescribeKey(table, row.cells) +
                          " more than once");
      }
      if (pk >= 0) {
        auto stored = commit.Get(family, key);
        if (!stored.ok()) return stored.status();
        bool exists = false;
        if (stored->has_value()) {
          store::RowVersion header;
          KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(**stored, header));
          exists = !header.deleted;
        } else if (family == store::Family::kHot) {  // a flushed row's key
          auto marker = commit.Get(family, store::MarkerKey(key));
          if (!marker.ok()) return marker.status();
          exists = marker->has_value();
        }
        if (exists) {
          if (conflict == nullptr) {
            return Status(Code::kConstraintViolation,
                          "Duplicate primary key " + DescribeKey(table, row.cells) + " in '" +
                              table.ns + "." + table.name + "'");
          }
          auto update = updates.find(key);
          if (update == updates.end()) continue;  // DO NOTHING, or the condition said no
          out.cells = update->second.cells;
          const WrittenRow& before = replaced[key];
          upserted.old_rows.push_back({before.cells, before.seq});
          upserted.rows.push_back({out.cells, seq});
        } else {
          inserted.rows.push_back({out.cells, seq});
        }
      } else {
        inserted.rows.push_back({out.cells, seq});
      }
      store::RowVersion encoded{version, seq, false, out.cells};
      commit.Put(family, key, store::EncodeRow(encoded, types));
      written.push_back(std::move(out));
    }
    if (!inserted.rows.empty()) commit.Emit(std::move(inserted));
    if (!upserted.rows.empty()) commit.Emit(std::move(upserted));
    return Status::Ok();
  });
  if (!committed.ok()) return committed;
  auto returning = Returning(host, context, table, table.name, insert.returning_list, written);
  if (!returning.ok()) return returning.status();
  return Done(written.size(), "Inserted", std::move(returning).value());
}

namespace {

// The rows a WHERE clause selects, read for the caller with the table held exclusively,
// as (key, current row) pairs.
struct SelectedRows {
  std::vector<std::string> keys;
  std::vector<WrittenRow> rows;
  std::unique_ptr<duckdb::MaterializedQueryResult> result;  // for UPDATE's new values
};

Result<SelectedRows> SelectTargets(DmlHost& host, const QueryContext& context, const TableDef& table,
                                   const std::string& alias, const std::string& from,
                                   const std::string& extra_select, const std::string& where) {
  std::string select = "SELECT " + QuotedIdentifier(alias) + ".*" + extra_select + " FROM " + from;
  if (!where.empty()) select += " WHERE " + where;
  auto result = host.Select(context, select);
  if (!result.ok()) return result.status();
  SelectedRows selected;
  const auto& columns = table.current().columns;
  const std::string scope = auth::ScopeFor(table, context.caller);
  auto& rows = **result;
  for (idx_t r = 0; r < rows.RowCount(); ++r) {
    WrittenRow row;
    for (size_t c = 0; c < columns.size(); ++c) {
      auto cell = CellFromValue(columns[c], rows.GetValue(c, r));
      if (!cell.ok()) return cell.status();
      row.cells.push_back(std::move(cell).value());
    }
    row.seq = rows.GetValue(columns.size(), r).GetValue<int64_t>();
    selected.keys.push_back(RowKey(table, scope, row.cells, row.seq));
    selected.rows.push_back(std::move(row));
  }
  selected.result.reset((*result).release());
  return selected;
}

std::string AliasOf(duckdb::TableRef& ref, const TableDef& table) {
  return ref.alias.empty() ? table.name : ref.alias;
}

}  // namespace

Result<Outcome> RunUpdate(DmlHost& host, const QueryContext& context,
                          const catalog::CatalogState& state, duckdb::UpdateStatement& update) {
  auto resolved = ResolveTableRef(state, context, *update.table);
  if (!resolved.ok()) return resolved.status();
  const TableDef& table = **resolved;
  if (table.type == TableType::kStream) {
    return Status(Code::kInvalidSql, "STREAM tables take INSERT only");
  }
  KALAM_RETURN_IF_ERROR(auth::CheckWrite(table, context.caller));
  if (!update.cte_map.map.empty()) return Status(Code::kInvalidSql, "WITH is not supported in UPDATE");
  const auto& columns = table.current().columns;
  const int pk = table.current().PrimaryKeyIndex();
  const auto& set = *update.set_info;
  std::vector<size_t> targets;
  std::string extra;
  for (size_t k = 0; k < set.columns.size(); ++k) {
    const std::string name = Lower(set.columns[k]);
    size_t i = 0;
    while (i < columns.size() && columns[i].name != name) ++i;
    if (i == columns.size()) {
      return Status(Code::kInvalidSql,
                    "Table '" + table.ns + "." + table.name + "' has no column '" + set.columns[k] + "'");
    }
    if (static_cast<int>(i) == pk) return Status(Code::kInvalidSql, "The primary key can't be updated");
    targets.push_back(i);
    extra += ", " + set.expressions[k]->ToString();
  }
  const std::string alias = AliasOf(*update.table, table);
  std::string from = update.table->ToString();
  if (update.from_table) from += ", " + update.from_table->ToString();

  std::unique_lock<std::shared_mutex> lock(host.TableLock(table.table_num));
  auto selected = SelectTargets(host, context, table, alias, from, extra,
                                set.condition ? set.condition->ToString() : "");
  if (!selected.ok()) return selected.status();
  const std::vector<WrittenRow> before = selected->rows;
  std::vector<WrittenRow> rows = std::move(selected->rows);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t k = 0; k < targets.size(); ++k) {
      auto cell = CellFromValue(columns[targets[k]],
                                selected->result->GetValue(columns.size() + 1 + k, r));
      if (!cell.ok()) return cell.status();
      rows[r].cells[targets[k]] = std::move(cell).value();
    }
    KALAM_RETURN_IF_ERROR(CheckNotNull(table, rows[r].cells));
  }
  // UPDATE ... FROM may select a row more than once: the first match wins, as in PostgreSQL.
  std::set<std::string> seen;
  const std::vector<ColumnType> types = CurrentTypes(table);
  const uint32_t version = table.current().version;
  std::vector<WrittenRow> written;
  Status committed = host.Write(context, [&](store::Writer& commit) -> Status {
    written.clear();
    seen.clear();
    store::ChangeEvent event{table.id(), auth::ScopeFor(table, context.caller),
                             store::ChangeEvent::Kind::kUpdate, version, {}, {}};
    for (size_t r = 0; r < rows.size(); ++r) {
      if (!seen.insert(selected->keys[r]).second) continue;
      const int64_t seq = commit.NextSeq();
      store::RowVersion encoded{version, seq, false, rows[r].cells};
      commit.Put(store::Family::kHot, selected->keys[r], store::EncodeRow(encoded, types));
      written.push_back({rows[r].cells, seq});
      event.rows.push_back({rows[r].cells, seq});
      event.old_rows.push_back({before[r].cells, before[r].seq});
    }
    if (!event.rows.empty()) commit.Emit(std::move(event));
    return Status::Ok();
  });
  if (!committed.ok()) return committed;
  auto returning = Returning(host, context, table, alias, update.returning_list, written);
  if (!returning.ok()) return returning.status();
  return Done(written.size(), "Updated", std::move(returning).value());
}

Result<Outcome> RunDelete(DmlHost& host, const QueryContext& context,
                          const catalog::CatalogState& state, duckdb::DeleteStatement& del) {
  auto resolved = ResolveTableRef(state, context, *del.table);
  if (!resolved.ok()) return resolved.status();
  const TableDef& table = **resolved;
  if (table.type == TableType::kStream) {
    return Status(Code::kInvalidSql, "STREAM tables take INSERT only");
  }
  KALAM_RETURN_IF_ERROR(auth::CheckWrite(table, context.caller));
  if (!del.cte_map.map.empty()) return Status(Code::kInvalidSql, "WITH is not supported in DELETE");
  const std::string alias = AliasOf(*del.table, table);
  std::string from = del.table->ToString();
  for (auto& using_ref : del.using_clauses) from += ", " + using_ref->ToString();

  std::unique_lock<std::shared_mutex> lock(host.TableLock(table.table_num));
  auto selected = SelectTargets(host, context, table, alias, from, "",
                                del.condition ? del.condition->ToString() : "");
  if (!selected.ok()) return selected.status();
  std::set<std::string> seen;
  const uint32_t version = table.current().version;
  std::vector<WrittenRow> deleted;
  Status committed = host.Write(context, [&](store::Writer& commit) -> Status {
    deleted.clear();
    seen.clear();
    store::ChangeEvent event{table.id(), auth::ScopeFor(table, context.caller),
                             store::ChangeEvent::Kind::kDelete, version, {}, {}};
    for (size_t r = 0; r < selected->rows.size(); ++r) {
      if (!seen.insert(selected->keys[r]).second) continue;
      // A tombstone, not an erase: cold segments may still hold older versions of the key.
      const int64_t seq = commit.NextSeq();
      store::RowVersion tombstone{version, seq, true, {}};
      commit.Put(store::Family::kHot, selected->keys[r], store::EncodeRow(tombstone, {}));
      deleted.push_back(selected->rows[r]);
      event.rows.push_back({selected->rows[r].cells, seq});
    }
    if (!event.rows.empty()) commit.Emit(std::move(event));
    return Status::Ok();
  });
  if (!committed.ok()) return committed;
  auto returning = Returning(host, context, table, alias, del.returning_list, deleted);
  if (!returning.ok()) return returning.status();
  return Done(deleted.size(), "Deleted", std::move(returning).value());
}

}  // namespace kalam::query
