// SELECTs answered without an engine query: a SELECT of constants ("SELECT 1"),
// and the primary-key point SELECT of one table. Each costs a parse, one store read at most
// and the encoding; the engine would cost ~45 µs more. Internal to query/.
#pragma once

#include <duckdb.hpp>
#include <optional>

#include "catalog/catalog.h"
#include "query/engine.h"

namespace kalam::store {
class KvStore;
}

namespace kalam::query {

// nullopt: not one of these shapes (or anything unusual about it) — take the general path,
// which also reports every error.
// In a transaction the row is read from its snapshot under its own writes.
std::optional<Result<RowSet>> TryFastSelect(const duckdb::SQLStatement& statement,
                                            const catalog::CatalogState& state,
                                            const QueryContext& context, store::KvStore& store);

}  // namespace kalam::query
