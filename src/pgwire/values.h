// Values crossing the Postgres wire in either format: Bind parameters coming in (text or
// binary, read by the type OID the client declared) and result cells going out (text or
// binary, by the column's type). The binary forms are PostgreSQL's send/recv formats:
// big-endian integers and IEEE floats, numeric as base-10000 digits, timestamps as
// microseconds and dates as days since 2000-01-01, uuid as 16 bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sql/params.h"

namespace kalam::pgwire {

inline constexpr int16_t kTextFormat = 0;
inline constexpr int16_t kBinaryFormat = 1;

// Postgres type OIDs this door reads and writes.
namespace oid {
inline constexpr int32_t kUnspecified = 0;
inline constexpr int32_t kBool = 16;
inline constexpr int32_t kBytea = 17;
inline constexpr int32_t kName = 19;
inline constexpr int32_t kInt8 = 20;
inline constexpr int32_t kInt2 = 21;
inline constexpr int32_t kInt4 = 23;
inline constexpr int32_t kText = 25;
inline constexpr int32_t kOid = 26;
inline constexpr int32_t kJson = 114;
inline constexpr int32_t kFloat4 = 700;
inline constexpr int32_t kFloat8 = 701;
inline constexpr int32_t kBpchar = 1042;
inline constexpr int32_t kVarchar = 1043;
inline constexpr int32_t kDate = 1082;
inline constexpr int32_t kTime = 1083;
inline constexpr int32_t kTimestamp = 1114;
inline constexpr int32_t kTimestampTz = 1184;
inline constexpr int32_t kNumeric = 1700;
inline constexpr int32_t kUuid = 2950;
inline constexpr int32_t kJsonb = 3802;
}  // namespace oid

// Parameter number (1-based) `number` of a Bind, declared as type_oid (0: unspecified), in
// format (0 text, 1 binary); bytes nullopt is NULL. Integers, floats and booleans become
// numbers and booleans; text of an unspecified type a string (the statement's context
// types it, as a Postgres "unknown" literal does); timestamps, dates, times, uuids,
// numerics and bytea become typed SQL literals. INVALID_PARAMETER when the bytes are not
// a value of the type; UNSUPPORTED for a binary type this door does not read.
Result<sql::ParamValue> DecodeParam(int32_t type_oid, int16_t format, std::optional<std::string_view> bytes,
                                    size_t number);

// Binary send formats of the cells of results, from their text (the HTTP API's JSON
// encoding, as results.cpp holds it). Each appends to out; false when text is not a value
// of the type.
bool AppendNumericBinary(std::string& out, std::string_view decimal_text);
bool AppendTimestampBinary(std::string& out, std::string_view rfc3339_utc);
bool AppendDateBinary(std::string& out, std::string_view iso_date);
bool AppendTimeBinary(std::string& out, std::string_view iso_time);
bool AppendUuidBinary(std::string& out, std::string_view uuid_text);

}  // namespace kalam::pgwire
