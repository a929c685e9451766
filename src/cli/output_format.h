// How `kalam` prints a statement's result: an aligned table for people, JSON or CSV for
// programs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cli/sql_reply.h"

namespace kalam::cli {

enum class OutputFormat { kTable, kJson, kCsv };

std::optional<OutputFormat> ParseOutputFormat(std::string_view name);  // "table", ...
std::string_view OutputFormatName(OutputFormat format);

struct RenderOptions {
  OutputFormat format = OutputFormat::kTable;
  // Tables only: ANSI styles (bold header, dim NULL). Without color NULL reads "NULL".
  bool color = false;
  // Tables only: the terminal's width; wider columns are cut (with "…") so that a line
  // fits. 0: never cut.
  size_t max_width = 0;
};

// The text for one statement's result, ending with a newline (or empty).
// - table: header, separator, rows (numbers right-aligned), then "(N rows)"; a statement
//   without rows prints its message.
// - json: rows as an array of objects, one row a line, values as the server encoded them
//   (every digit kept); a statement without rows prints {"row_count":N,"message":"..."}.
// - csv: RFC 4180 with a header line; NULL is an empty field. A statement without rows
//   prints nothing, so that the output stays CSV.
std::string Render(const StatementResult& result, const RenderOptions& options);

// The number of terminal columns text takes: one per UTF-8 code point.
size_t DisplayWidth(std::string_view text);
// text cut to at most `width` columns; a cut ends with "…".
std::string CutToWidth(std::string_view text, size_t width);

}  // namespace kalam::cli
