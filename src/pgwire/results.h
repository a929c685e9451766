// A statement's result as Postgres messages: RowDescription and DataRows, each column in
// the text or binary format the client asked for, and the SQLSTATE of an error.
//
// The executor hands results over as the JSON of the HTTP API (query::RowSet, its value
// encoding in docs/api.md); they are converted from that JSON here. Lossy in one place:
// NaN and infinite floats are JSON null, so they reach Postgres clients as NULL.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/engine.h"

namespace kalam::pgwire {

// How a column's values are written in text format.
enum class TextForm { kPlain, kBool, kBytes, kJson, kTimestamp, kTime };

struct ResultColumn {
  std::string name;
  std::string data_type;  // the API's name ("BigInt", "Decimal(10,2)")
  int32_t oid = 25;  // the Postgres type: 20 for "BigInt", 1700 for "Decimal(10,2)"; text for others
  int16_t size = -1;  // pg_type.typlen
  TextForm form = TextForm::kPlain;
};

// A result parsed once to be sent row by row (an Execute may send part of it and suspend).
// Formats: per the Bind message's result format codes — none (all text), one (for every
// column) or one per column.
class ResultRows {
 public:
  // INTERNAL_ERROR if the JSON is not what the encoder writes.
  static Result<ResultRows> Parse(const query::RowSet& rows);

  const std::vector<ResultColumn>& columns() const { return columns_; }
  size_t size() const { return rows_.size(); }
  void AppendDescription(std::string& out, const std::vector<int16_t>& formats) const;
  // The text format of row i's cell c into text; false for NULL.
  bool CellText(size_t i, size_t c, std::string& text) const;
  // RowDescription and every DataRow.
  Status AppendAll(std::string& out, const std::vector<int16_t>& formats) const;
  // DataRow of row i. INTERNAL_ERROR when a cell is not a value of its column's type.
  Status AppendRow(std::string& out, size_t i, const std::vector<int16_t>& formats) const;

 private:
  std::vector<ResultColumn> columns_;
  boost::json::array rows_;
};


// The format code of column c under a Bind's result formats.
int16_t FormatOf(const std::vector<int16_t>& formats, size_t c);

// The SQLSTATE Postgres clients expect for one of KalamDB's error codes.
std::string_view SqlState(Code code);

}  // namespace kalam::pgwire
