// The answer of POST /v1/api/sql (docs/api.md), decoded into plain values for display.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::cli {

struct Column {
  std::string name;
  std::string data_type;  // the API's name: "BigInt", "Text", "Decimal(10,2)", ...
};

// One cell. `text` is what a person reads: numbers with all their digits, strings without
// quotes, JSON values as compact JSON text, "true"/"false". Empty for NULL.
struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kJson };
  Kind kind = Kind::kNull;
  std::string text;

  bool is_null() const { return kind == Kind::kNull; }
};

// One statement's result: rows (when the statement returns rows) or a row count and message.
struct StatementResult {
  bool has_rows = false;
  std::vector<Column> columns;
  std::vector<std::vector<Value>> rows;
  int64_t row_count = 0;
  std::string message;
};

struct ServerError {
  std::string code;  // "INVALID_SQL", ...
  std::string message;
  int statement_index = 0;  // 1-based; 0 when the error is not about one statement
};

struct SqlReply {
  std::vector<StatementResult> results;  // on error: the statements that ran before it
  double took_ms = 0;                    // server-side
  std::optional<ServerError> error;
};

// Decodes a response body of the SQL route. INTERNAL_ERROR when it is not the contract's
// JSON (a proxy's error page, say); the message then quotes the HTTP status.
Result<SqlReply> ParseSqlReply(int http_status, std::string_view body);

// The error of any other route's JSON answer ({"error":{"code","message"}}), or a
// description of the HTTP status when the body has none.
ServerError ParseErrorBody(int http_status, std::string_view body);

// True for the data_type names whose values are numbers (they are right-aligned).
bool IsNumericType(std::string_view data_type);

}  // namespace kalam::cli
