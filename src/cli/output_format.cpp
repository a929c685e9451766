#include "cli/output_format.h"

#include <algorithm>
#include <vector>

#include "common/json_text.h"

namespace kalam::cli {

namespace {

constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kEllipsis = "…";
constexpr size_t kMinColumnWidth = 3;  // columns are never cut narrower than this

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A table cell holds one line: control characters are shown as escapes.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

// The largest cap such that the columns, each cut to min(width, cap), fit in `available`.
size_t WidthCap(const std::vector<size_t>& widths, size_t available) {
  size_t lo = kMinColumnWidth;
  size_t hi = *std::max_element(widths.begin(), widths.end());
  auto total = [&](size_t cap) {
    size_t sum = 0;
    for (size_t w : widths) sum += std::min(w, cap);
    return sum;
  };
  if (total(hi) <= available) return hi;
  while (lo < hi) {  // invariant: total(hi) > available, or hi == lo
    const size_t mid = lo + (hi - lo + 1) / 2;
    if (total(mid) <= available) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// text padded to width; only the text itself is styled, so that padding stays plain.
std::string Cell(std::string_view text, size_t width, bool right, std::string_view style) {
  const size_t w = DisplayWidth(text);
  const std::string padding(w < width ? width - w : 0, ' ');
  std::string styled(text);
  if (!style.empty()) styled = std::string(style) + styled + std::string(kReset);
  return right ? padding + styled : styled + padding;
}

std::string RenderTable(const StatementResult& r, const RenderOptions& options) {
  if (!r.has_rows) {
    if (!r.message.empty()) return r.message + "\n";
    return "OK, " + std::to_string(r.row_count) + (r.row_count == 1 ? " row" : " rows") +
           " affected\n";
  }
  const size_t n = r.columns.size();
  std::vector<bool> right(n);
  std::vector<std::string> header(n);
  std::vector<std::vector<std::string>> cells(r.rows.size(), std::vector<std::string>(n));
  std::vector<size_t> widths(n);
  for (size_t c = 0; c < n; ++c) {
    right[c] = IsNumericType(r.columns[c].data_type);
    header[c] = OneLine(r.columns[c].name);
    widths[c] = DisplayWidth(header[c]);
  }
  for (size_t i = 0; i < r.rows.size(); ++i) {
    for (size_t c = 0; c < n; ++c) {
      const Value& v = r.rows[i][c];
      cells[i][c] = v.is_null() ? "NULL" : OneLine(v.text);
      widths[c] = std::max(widths[c], DisplayWidth(cells[i][c]));
    }
  }
  // A line is " a | b | c ": one space each side and " | " between columns.
  const size_t decoration = n == 0 ? 0 : 3 * (n - 1) + 2;
  if (options.max_width > decoration && n > 0) {
    const size_t cap = WidthCap(widths, options.max_width - decoration);
    for (size_t& w : widths) w = std::min(w, cap);
  }

  std::string out;
  auto line = [&](const std::vector<std::string>& texts, const std::vector<bool>& nulls,
                  bool is_header) {
    std::string text;
    for (size_t c = 0; c < n; ++c) {
      text += c == 0 ? " " : " | ";
      const std::string_view style = !options.color ? "" : is_header ? kBold : nulls[c] ? kDim : "";
      text += Cell(CutToWidth(texts[c], widths[c]), widths[c], right[c], style);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header, std::vector<bool>(n), true);
  for (size_t c = 0; c < n; ++c) {
    if (c > 0) out += '+';
    out += std::string(widths[c] + 2, '-');
  }
  out += "\n";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    std::vector<bool> nulls(n);
    for (size_t c = 0; c < n; ++c) nulls[c] = r.rows[i][c].is_null();
    line(cells[i], nulls, false);
  }
  out += "(" + std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row)\n" : " rows)\n");
  return out;
}

void AppendJsonValue(std::string& out, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull:
      out += "null";
      break;
    case Value::Kind::kString:
      AppendJsonString(out, v.text);
      break;
    default:
      out += v.text;  // numbers, booleans and JSON keep the server's text
  }
}

std::string RenderJson(const StatementResult& r) {
  std::string out;
  if (!r.has_rows) {
    out = "{\"row_count\":" + std::to_string(r.row_count) + ",\"message\":";
    AppendJsonString(out, r.message);
    return out + "}\n";
  }
  if (r.rows.empty()) return "[]\n";
  out = "[\n";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    out += "  {";
    for (size_t c = 0; c < r.columns.size(); ++c) {
      if (c > 0) out += ',';
      AppendJsonString(out, r.columns[c].name);
      out += ':';
      AppendJsonValue(out, r.rows[i][c]);
    }
    out += i + 1 < r.rows.size() ? "},\n" : "}\n";
  }
  return out + "]\n";
}

void AppendCsvField(std::string& out, std::string_view text, bool quote_empty) {
  const bool quote =
      text.find_first_of(",\"\r\n") != std::string_view::npos || (quote_empty && text.empty());
  if (!quote) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string RenderCsv(const StatementResult& r) {
  if (!r.has_rows) return "";
  std::string out;
  for (size_t c = 0; c < r.columns.size(); ++c) {
    if (c > 0) out += ',';
    AppendCsvField(out, r.columns[c].name, true);
  }
  out += '\n';
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c > 0) out += ',';
      // NULL is the empty field; an empty string is "" so the two stay apart.
      if (!row[c].is_null()) AppendCsvField(out, row[c].text, true);
    }
    out += '\n';
  }
  return out;
}

}  // namespace

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  return std::nullopt;
}

std::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kCsv:
      return "csv";
  }
  return "table";
}

std::string Render(const StatementResult& result, const RenderOptions& options) {
  switch (options.format) {
    case OutputFormat::kTable:
      return RenderTable(result, options);
    case OutputFormat::kJson:
      return RenderJson(result);
    case OutputFormat::kCsv:
      return RenderCsv(result);
  }
  return "";
}

size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); }));
}

std::string CutToWidth(std::string_view text, size_t width) {
  if (DisplayWidth(text) <= width) return std::string(text);
  if (width == 0) return "";
  // Keep width - 1 code points, then the ellipsis.
  size_t kept = 0;
  size_t end = 0;
  while (end < text.size()) {
    if (!IsContinuationByte(text[end])) {
      if (kept == width - 1) break;
      ++kept;
    }
    ++end;
  }
  return std::string(text.substr(0, end)) + std::string(kEllipsis);
}

}  // namespace kalam::cli
