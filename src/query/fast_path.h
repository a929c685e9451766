// SELECTs answered without an engine query: a SELECT of constants ("SELECT 1"),
// and the primary-key point SELECT of one table. Each costs a parse, one store read at most
// and the encoding; the engine would cost ~45 µs more. Internal to query/.
#pragma once

#include <duckdb.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "cold/cold_store.h"
#include "query/engine.h"
#include "store/row_codec.h"

namespace kalam::store {
class KvStore;
}

namespace kalam::query {

// What a point SELECT answers: the columns it asks for, named and typed as the engine
// would.
struct PointOutputs {
  const catalog::TableDef* table = nullptr;  // of the statement's catalog state
  std::vector<int> columns;                  // current column indices; columns.size(): _seq
  duckdb::vector<std::string> names;
  duckdb::vector<duckdb::LogicalType> types;
};

// The answer of a point read: no row, or the row of cells (the table's current columns).
RowSet PointAnswer(const PointOutputs& outputs, const std::vector<store::Cell>* cells, int64_t seq);

// A point SELECT of a key that lives only in cold segments (the store said it has no hot
// version): no hot scan, no merge with hot keys. Answered from the decoded row groups of
// cold::PointCache when they hold it, else by sql (our own, not guarded) over the
// segments whose key range may hold the key, newest version first, with manifest pinned.
struct ColdPointRead {
  PointOutputs outputs;
  std::string dir;  // the scope's directory
  std::shared_ptr<const cold::Manifest> manifest;
  std::vector<size_t> segments;  // indices of those that may hold the key, newest first
  duckdb::Value key;             // of the key column's engine type
  std::string key_bytes;         // the key cell as store::AppendKeyCell encodes it
  std::string sql;
};

struct FastSelect {
  std::optional<Result<RowSet>> rows;     // answered here
  std::optional<ColdPointRead> cold_read;  // or: run this
};

// nullopt: not one of these shapes (or anything unusual about it) — take the general path,
// which also reports every error.
// In a transaction the row is read from its snapshot under its own writes (and a cold key
// takes the general path, which reads the transaction's snapshot of the segments).
// read_gate, when set, must pass the table's read (its refusal is the answer).
std::optional<FastSelect> TryFastSelect(const duckdb::SQLStatement& statement,
                                        const catalog::CatalogState& state,
                                        const QueryContext& context, store::KvStore& store,
                                        cold::ColdStore& cold, const TableReadGate* read_gate);

}  // namespace kalam::query
