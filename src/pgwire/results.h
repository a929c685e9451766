// A statement's result as Postgres messages: RowDescription and DataRows in text format,
// and the SQLSTATE of an error.
//
// The executor hands results over as the JSON of the HTTP API (query::RowSet, its value
// encoding in docs/api.md); they are converted from that JSON here. Lossy in one place:
// NaN and infinite floats are JSON null, so they reach Postgres clients as NULL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "query/engine.h"

namespace kalam::pgwire {

// The Postgres type OID of an API data_type name ("BigInt" → 20, "Decimal(10,2)" → 1700);
// 25 (text) for names without one.
int32_t TypeOid(std::string_view data_type);

// Appends RowDescription and one DataRow per row. INTERNAL_ERROR if the JSON is not what
// the encoder writes.
Status AppendRows(std::string& out, const query::RowSet& rows);

// The SQLSTATE Postgres clients expect for one of KalamDB's error codes.
std::string_view SqlState(Code code);

}  // namespace kalam::pgwire
