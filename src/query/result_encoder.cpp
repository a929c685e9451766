#include "query/result_encoder.h"

#include <fmt/format.h>

#include "duckdb/common/types/time.hpp"

#include <cmath>

#include "common/encoding.h"
#include "common/json_text.h"

namespace kalam::query {
namespace {

using duckdb::LogicalType;
using duckdb::LogicalTypeId;

void AppendTimestamp(std::string& out, duckdb::timestamp_t ts) {
  if (!duckdb::Timestamp::IsFinite(ts)) {
    AppendJsonString(out, duckdb::Timestamp::ToString(ts));
    return;
  }
  duckdb::date_t date;
  duckdb::dtime_t time;
  duckdb::Timestamp::Convert(ts, date, time);
  int32_t y, mo, d, h, mi, s, us;
  duckdb::Date::Convert(date, y, mo, d);
  duckdb::Time::Convert(time, h, mi, s, us);
  fmt::format_to(std::back_inserter(out), "\"{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z\"",
                 y, mo, d, h, mi, s, us);
}

void AppendDate(std::string& out, duckdb::date_t date) {
  if (!duckdb::Date::IsFinite(date)) {
    AppendJsonString(out, duckdb::Date::ToString(date));
    return;
  }
  int32_t y, m, d;
  duckdb::Date::Convert(date, y, m, d);
  fmt::format_to(std::back_inserter(out), "\"{:04d}-{:02d}-{:02d}\"", y, m, d);
}

void AppendTime(std::string& out, duckdb::dtime_t time) {
  int32_t h, m, s, us;
  duckdb::Time::Convert(time, h, m, s, us);
  if (us == 0) {
    fmt::format_to(std::back_inserter(out), "\"{:02d}:{:02d}:{:02d}\"", h, m, s);
  } else {
    fmt::format_to(std::back_inserter(out), "\"{:02d}:{:02d}:{:02d}.{:06d}\"", h, m, s, us);
  }
}

void AppendDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

Code CodeForError(duckdb::ExceptionType type) {
  using duckdb::ExceptionType;
  switch (type) {
    case ExceptionType::PARSER:
    case ExceptionType::BINDER:
    case ExceptionType::CATALOG:
    case ExceptionType::SYNTAX:
      return Code::kInvalidSql;
    case ExceptionType::PERMISSION:
      return Code::kPermissionDenied;
    case ExceptionType::CONSTRAINT:
      return Code::kConstraintViolation;
    case ExceptionType::OUT_OF_MEMORY:
      return Code::kResourceExhausted;
    case ExceptionType::INTERNAL:
    case ExceptionType::FATAL:
      return Code::kInternalError;
    default:
      return Code::kSqlExecutionError;
  }
}

}  // namespace

Status FromError(const duckdb::ErrorData& error) {
  Code code = CodeForError(error.Type());
  if (code == Code::kInternalError) return {code, "The query failed inside the engine"};
  return {code, error.RawMessage()};
}

// Slow path for values without a typed reader below: nested types become JSON.
void AppendValue(std::string& out, const duckdb::Value& v) {
  if (v.IsNull()) {
    out += "null";
    return;
  }
  const LogicalType& type = v.type();
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN: out += v.GetValue<bool>() ? "true" : "false"; return;
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::UTINYINT:
    case LogicalTypeId::USMALLINT:
    case LogicalTypeId::UINTEGER:
    case LogicalTypeId::UBIGINT:
    case LogicalTypeId::HUGEINT:
    case LogicalTypeId::UHUGEINT: out += v.ToString(); return;
    case LogicalTypeId::FLOAT:
    case LogicalTypeId::DOUBLE: AppendDouble(out, v.GetValue<double>()); return;
    case LogicalTypeId::VARCHAR:
      if (type.IsJSONType()) {
        out += v.GetValue<std::string>();
      } else {
        AppendJsonString(out, v.GetValue<std::string>());
      }
      return;
    case LogicalTypeId::BLOB: {
      const std::string& bytes = duckdb::StringValue::Get(v);
      AppendJsonString(out, Base64Encode(bytes));
      return;
    }
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_NS:
      AppendTimestamp(out, v.DefaultCastAs(LogicalType::TIMESTAMP).GetValue<duckdb::timestamp_t>());
      return;
    case LogicalTypeId::DATE: AppendDate(out, v.GetValue<duckdb::date_t>()); return;
    case LogicalTypeId::TIME: AppendTime(out, v.GetValue<duckdb::dtime_t>()); return;
    case LogicalTypeId::LIST:
    case LogicalTypeId::ARRAY: {
      const auto& children = type.id() == LogicalTypeId::LIST
                                 ? duckdb::ListValue::GetChildren(v)
                                 : duckdb::ArrayValue::GetChildren(v);
      out.push_back('[');
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendValue(out, children[i]);
      }
      out.push_back(']');
      return;
    }
    case LogicalTypeId::STRUCT: {
      const auto& children = duckdb::StructValue::GetChildren(v);
      out.push_back('{');
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out.push_back(',');
        AppendJsonString(out, duckdb::StructType::GetChildName(type, i));
        out.push_back(':');
        AppendValue(out, children[i]);
      }
      out.push_back('}');
      return;
    }
    default: AppendJsonString(out, v.ToString()); return;
  }
}

namespace {

// One column of one chunk, read through its unified format.
struct ColumnReader {
  const LogicalType* type;
  duckdb::Vector* vector;
  duckdb::UnifiedVectorFormat format;

  template <typename T>
  const T& At(idx_t i) const {
    return duckdb::UnifiedVectorFormat::GetData<T>(format)[i];
  }

  void Append(std::string& out, idx_t row) const {
    const idx_t i = format.sel->get_index(row);
    if (!format.validity.RowIsValid(i)) {
      out += "null";
      return;
    }
    auto back = std::back_inserter(out);
    switch (type->id()) {
      case LogicalTypeId::BOOLEAN: out += At<bool>(i) ? "true" : "false"; return;
      case LogicalTypeId::TINYINT: fmt::format_to(back, "{}", At<int8_t>(i)); return;
      case LogicalTypeId::SMALLINT: fmt::format_to(back, "{}", At<int16_t>(i)); return;
      case LogicalTypeId::INTEGER: fmt::format_to(back, "{}", At<int32_t>(i)); return;
      case LogicalTypeId::BIGINT: fmt::format_to(back, "{}", At<int64_t>(i)); return;
      case LogicalTypeId::UTINYINT: fmt::format_to(back, "{}", At<uint8_t>(i)); return;
      case LogicalTypeId::USMALLINT: fmt::format_to(back, "{}", At<uint16_t>(i)); return;
      case LogicalTypeId::UINTEGER: fmt::format_to(back, "{}", At<uint32_t>(i)); return;
      case LogicalTypeId::UBIGINT: fmt::format_to(back, "{}", At<uint64_t>(i)); return;
      case LogicalTypeId::FLOAT: AppendDouble(out, At<float>(i)); return;
      case LogicalTypeId::DOUBLE: AppendDouble(out, At<double>(i)); return;
      case LogicalTypeId::VARCHAR: {
        const auto& s = At<duckdb::string_t>(i);
        std::string_view view(s.GetData(), s.GetSize());
        if (type->IsJSONType()) {
          out.append(view);
        } else {
          AppendJsonString(out, view);
        }
        return;
      }
      case LogicalTypeId::BLOB: {
        const auto& s = At<duckdb::string_t>(i);
        AppendJsonString(out, Base64Encode(std::string_view(s.GetData(), s.GetSize())));
        return;
      }
      case LogicalTypeId::TIMESTAMP:
      case LogicalTypeId::TIMESTAMP_TZ: AppendTimestamp(out, At<duckdb::timestamp_t>(i)); return;
      case LogicalTypeId::DATE: AppendDate(out, At<duckdb::date_t>(i)); return;
      case LogicalTypeId::TIME: AppendTime(out, At<duckdb::dtime_t>(i)); return;
      default: AppendValue(out, vector->GetValue(row)); return;
    }
  }
};

}  // namespace

std::string SpecTypeName(const LogicalType& type) {
  if (type.IsJSONType()) return "Json";
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN: return "Boolean";
    case LogicalTypeId::TINYINT:
    case LogicalTypeId::SMALLINT:
    case LogicalTypeId::UTINYINT: return "SmallInt";
    case LogicalTypeId::INTEGER:
    case LogicalTypeId::USMALLINT: return "Int";
    case LogicalTypeId::BIGINT:
    case LogicalTypeId::UINTEGER:
    case LogicalTypeId::UBIGINT:
    case LogicalTypeId::HUGEINT:
    case LogicalTypeId::UHUGEINT: return "BigInt";
    case LogicalTypeId::FLOAT: return "Float";
    case LogicalTypeId::DOUBLE: return "Double";
    case LogicalTypeId::DECIMAL:
      return fmt::format("Decimal({},{})", duckdb::DecimalType::GetWidth(type),
                         duckdb::DecimalType::GetScale(type));
    case LogicalTypeId::BLOB: return "Bytes";
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ:
    case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_SEC:
    case LogicalTypeId::TIMESTAMP_NS: return "Timestamp";
    case LogicalTypeId::DATE: return "Date";
    case LogicalTypeId::TIME: return "Time";
    case LogicalTypeId::UUID: return "Uuid";
    case LogicalTypeId::LIST:
    case LogicalTypeId::ARRAY:
    case LogicalTypeId::STRUCT:
    case LogicalTypeId::MAP: return "Json";
    default: return "Text";
  }
}

RowSetWriter::RowSetWriter(const duckdb::vector<std::string>& names,
                           const duckdb::vector<LogicalType>& types)
    : types_(types) {
  out_.schema_json.push_back('[');
  for (size_t c = 0; c < names.size(); ++c) {
    if (c > 0) out_.schema_json.push_back(',');
    out_.schema_json += "{\"name\":";
    AppendJsonString(out_.schema_json, names[c]);
    out_.schema_json += ",\"data_type\":";
    AppendJsonString(out_.schema_json, SpecTypeName(types[c]));
    fmt::format_to(std::back_inserter(out_.schema_json), ",\"index\":{}}}", c);
  }
  out_.schema_json.push_back(']');
  out_.rows_json.push_back('[');
}

void RowSetWriter::Append(duckdb::DataChunk& chunk, idx_t max_rows) {
  std::vector<ColumnReader> readers(types_.size());
  for (size_t c = 0; c < readers.size(); ++c) {
    readers[c].type = &types_[c];
    readers[c].vector = &chunk.data[c];
    chunk.data[c].ToUnifiedFormat(chunk.size(), readers[c].format);
  }
  const idx_t rows = std::min<idx_t>(chunk.size(), max_rows);
  for (idx_t r = 0; r < rows; ++r) {
    if (out_.row_count > 0) out_.rows_json.push_back(',');
    out_.rows_json.push_back('[');
    for (size_t c = 0; c < readers.size(); ++c) {
      if (c > 0) out_.rows_json.push_back(',');
      readers[c].Append(out_.rows_json, r);
    }
    out_.rows_json.push_back(']');
    ++out_.row_count;
  }
}

RowSet RowSetWriter::Finish() {
  out_.rows_json.push_back(']');
  return std::move(out_);
}

Result<RowSet> EncodeResult(duckdb::QueryResult& result, const ResultLimits& limits) {
  RowSetWriter writer(result.names, result.types);
  const uint64_t max_rows = limits.max_rows == 0 ? UINT64_MAX : limits.max_rows;
  bool truncated = false;
  for (;;) {
    duckdb::ErrorData error;
    duckdb::unique_ptr<duckdb::DataChunk> chunk;
    if (!result.TryFetch(chunk, error)) return FromError(error);
    if (!chunk || chunk->size() == 0) break;
    const uint64_t room = max_rows - writer.row_count();
    truncated = chunk->size() > room;
    writer.Append(*chunk, room);
    if (limits.max_bytes > 0 && writer.bytes() > limits.max_bytes) {
      return Status(Code::kResourceExhausted,
                    fmt::format("The result passed [limits] max_statement_memory_mb ({} MB) after "
                                "{} rows: add a LIMIT, or select fewer rows or columns",
                                limits.max_bytes >> 20, writer.row_count()));
    }
    if (truncated) break;
  }
  RowSet rows = writer.Finish();
  rows.truncated = truncated;
  return rows;
}

}  // namespace kalam::query
