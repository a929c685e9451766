#include "query/cells.h"

#include <boost/json.hpp>

namespace kalam::query {

using duckdb::LogicalType;
using store::Cell;
using store::Int128;

LogicalType EngineType(const catalog::ColumnDef& column) {
  switch (column.type) {
    case ColumnType::kBoolean: return LogicalType::BOOLEAN;
    case ColumnType::kSmallInt: return LogicalType::SMALLINT;
    case ColumnType::kInt: return LogicalType::INTEGER;
    case ColumnType::kBigInt: return LogicalType::BIGINT;
    case ColumnType::kFloat: return LogicalType::FLOAT;
    case ColumnType::kDouble: return LogicalType::DOUBLE;
    case ColumnType::kDecimal: return LogicalType::DECIMAL(column.precision, column.scale);
    case ColumnType::kText: return LogicalType::VARCHAR;
    case ColumnType::kBytes: return LogicalType::BLOB;
    case ColumnType::kJson: return LogicalType::JSON();
    case ColumnType::kTimestamp: return LogicalType::TIMESTAMP;
    case ColumnType::kDate: return LogicalType::DATE;
    case ColumnType::kTime: return LogicalType::TIME;
    case ColumnType::kUuid: return LogicalType::UUID;
  }
  return LogicalType::VARCHAR;
}

namespace {

duckdb::hugeint_t ToHuge(const Int128& v) {
  duckdb::hugeint_t h;
  h.lower = v.lo;
  h.upper = v.hi;
  return h;
}

Int128 FromHuge(const duckdb::hugeint_t& h) { return {h.lower, h.upper}; }

}  // namespace

void WriteCell(duckdb::Vector& vector, idx_t row, const catalog::ColumnDef& column,
               const Cell& cell) {
  if (store::IsNull(cell)) {
    duckdb::FlatVector::SetNull(vector, row, true);
    return;
  }
  using duckdb::FlatVector;
  switch (column.type) {
    case ColumnType::kBoolean:
      FlatVector::GetData<bool>(vector)[row] = std::get<int64_t>(cell) != 0;
      return;
    case ColumnType::kSmallInt:
      FlatVector::GetData<int16_t>(vector)[row] = static_cast<int16_t>(std::get<int64_t>(cell));
      return;
    case ColumnType::kInt:
      FlatVector::GetData<int32_t>(vector)[row] = static_cast<int32_t>(std::get<int64_t>(cell));
      return;
    case ColumnType::kDate:
      FlatVector::GetData<duckdb::date_t>(vector)[row] =
          duckdb::date_t(static_cast<int32_t>(std::get<int64_t>(cell)));
      return;
    case ColumnType::kBigInt:
      FlatVector::GetData<int64_t>(vector)[row] = std::get<int64_t>(cell);
      return;
    case ColumnType::kTimestamp:
      FlatVector::GetData<duckdb::timestamp_t>(vector)[row] =
          duckdb::timestamp_t(std::get<int64_t>(cell));
      return;
    case ColumnType::kTime:
      FlatVector::GetData<duckdb::dtime_t>(vector)[row] = duckdb::dtime_t(std::get<int64_t>(cell));
      return;
    case ColumnType::kFloat:
      FlatVector::GetData<float>(vector)[row] = static_cast<float>(std::get<double>(cell));
      return;
    case ColumnType::kDouble:
      FlatVector::GetData<double>(vector)[row] = std::get<double>(cell);
      return;
    case ColumnType::kDecimal: {
      const duckdb::hugeint_t h = ToHuge(std::get<Int128>(cell));
      switch (vector.GetType().InternalType()) {
        case duckdb::PhysicalType::INT16:
          FlatVector::GetData<int16_t>(vector)[row] = static_cast<int16_t>(h.lower);
          return;
        case duckdb::PhysicalType::INT32:
          FlatVector::GetData<int32_t>(vector)[row] = static_cast<int32_t>(h.lower);
          return;
        case duckdb::PhysicalType::INT64:
          FlatVector::GetData<int64_t>(vector)[row] = static_cast<int64_t>(h.lower);
          return;
        default:
          FlatVector::GetData<duckdb::hugeint_t>(vector)[row] = h;
          return;
      }
    }
    case ColumnType::kUuid:
      FlatVector::GetData<duckdb::hugeint_t>(vector)[row] = ToHuge(std::get<Int128>(cell));
      return;
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson: {
      const std::string& s = std::get<std::string>(cell);
      FlatVector::GetData<duckdb::string_t>(vector)[row] =
          duckdb::StringVector::AddStringOrBlob(vector, s.data(), s.size());
      return;
    }
  }
}

duckdb::Value CellToValue(const catalog::ColumnDef& column, const Cell& cell) {
  duckdb::Vector vector(EngineType(column), 1);
  WriteCell(vector, 0, column, cell);
  return vector.GetValue(0);
}

Result<Cell> CellFromValue(const catalog::ColumnDef& column, const duckdb::Value& value) {
  if (value.IsNull()) return Cell();
  const LogicalType target = EngineType(column);
  duckdb::Value cast;
  std::string error;
  bool ok = false;
  try {
    ok = value.DefaultTryCastAs(target, cast, &error, true);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!ok) {
    return Status(Code::kConstraintViolation,
                  "Column '" + column.name + "' expects " + column.SqlType() + ": cannot use " +
                      value.ToSQLString());
  }
  switch (column.type) {
    case ColumnType::kBoolean: return Cell(static_cast<int64_t>(cast.GetValue<bool>()));
    case ColumnType::kSmallInt:
    case ColumnType::kInt:
    case ColumnType::kBigInt: return Cell(cast.GetValue<int64_t>());
    case ColumnType::kDate: return Cell(static_cast<int64_t>(cast.GetValue<duckdb::date_t>().days));
    case ColumnType::kTimestamp: return Cell(cast.GetValue<duckdb::timestamp_t>().value);
    case ColumnType::kTime: return Cell(cast.GetValue<duckdb::dtime_t>().micros);
    case ColumnType::kFloat:
    case ColumnType::kDouble: return Cell(cast.GetValue<double>());
    case ColumnType::kDecimal: {
      // The unscaled integer, whatever width the engine keeps it in.
      switch (target.InternalType()) {
        case duckdb::PhysicalType::INT16:
          return Cell(FromHuge(duckdb::hugeint_t(duckdb::SmallIntValue::Get(cast))));
        case duckdb::PhysicalType::INT32:
          return Cell(FromHuge(duckdb::hugeint_t(duckdb::IntegerValue::Get(cast))));
        case duckdb::PhysicalType::INT64:
          return Cell(FromHuge(duckdb::hugeint_t(duckdb::BigIntValue::Get(cast))));
        default:
          return Cell(FromHuge(duckdb::HugeIntValue::Get(cast)));
      }
    }
    case ColumnType::kUuid: return Cell(FromHuge(cast.GetValueUnsafe<duckdb::hugeint_t>()));
    case ColumnType::kText: return Cell(duckdb::StringValue::Get(cast));
    case ColumnType::kJson: {
      // Stored as text and sent to clients as they are: it must be JSON.
      const std::string& text = duckdb::StringValue::Get(cast);
      boost::system::error_code ec;
      boost::json::parse(text, ec);
      if (ec) {
        return Status(Code::kConstraintViolation,
                      "Column '" + column.name + "' expects JSON: " + value.ToSQLString() +
                          " is not valid JSON");
      }
      return Cell(text);
    }
    case ColumnType::kBytes: return Cell(duckdb::StringValue::Get(cast));
  }
  return Cell();
}

}  // namespace kalam::query
