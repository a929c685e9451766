// COPY ... TO STDOUT, what psql's \copy ... to sends: the rows of a query or a table
// streamed as CopyData in PostgreSQL's text or CSV format. COPY FROM STDIN and COPY to or
// from a server file are refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "pgwire/results.h"

namespace kalam::pgwire {

struct CopyOut {
  std::string select;  // the query whose rows are copied
  bool csv = false;    // FORMAT csv; else text
  bool header = false;  // CSV only: a first line of column names
  char delimiter = '\t';
  std::string null_text = "\\N";
  char quote = '"';
};

// nullopt when statement is not a COPY; a COPY this door does not do is an error
// (UNSUPPORTED, or INVALID_SQL for options that make no sense).
std::optional<Result<CopyOut>> ParseCopy(std::string_view statement);

// CopyOutResponse, a CopyData per row (and the header), CopyDone.
void AppendCopyOut(std::string& out, const CopyOut& copy, const ResultRows& rows);

}  // namespace kalam::pgwire
