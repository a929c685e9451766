#include "pgwire/results.h"

#include <boost/json.hpp>
#include <bit>
#include <charconv>

#include "common/encoding.h"
#include "common/text.h"
#include "pgwire/protocol.h"
#include "pgwire/values.h"

namespace kalam::pgwire {
namespace json = boost::json;

namespace {

struct TypeInfo {
  std::string_view data_type;
  int32_t oid;
  int16_t size;
  TextForm form;
};

constexpr TypeInfo kTypes[] = {
    {"Boolean", oid::kBool, 1, TextForm::kBool},          {"SmallInt", oid::kInt2, 2, TextForm::kPlain},
    {"Int", oid::kInt4, 4, TextForm::kPlain},             {"BigInt", oid::kInt8, 8, TextForm::kPlain},
    {"Float", oid::kFloat4, 4, TextForm::kPlain},         {"Double", oid::kFloat8, 8, TextForm::kPlain},
    {"Decimal", oid::kNumeric, -1, TextForm::kPlain},     {"Text", oid::kText, -1, TextForm::kPlain},
    {"Bytes", oid::kBytea, -1, TextForm::kBytes},         {"Json", oid::kJson, -1, TextForm::kJson},
    {"Timestamp", oid::kTimestamp, 8, TextForm::kTimestamp}, {"Date", oid::kDate, 4, TextForm::kPlain},
    {"Time", oid::kTime, 8, TextForm::kTime},             {"Uuid", oid::kUuid, 16, TextForm::kPlain},
};

const TypeInfo* FindType(std::string_view data_type) {
  // Decimal(p,s): the name before the parenthesis.
  data_type = data_type.substr(0, data_type.find('('));
  for (const TypeInfo& t : kTypes) {
    if (t.data_type == data_type) return &t;
  }
  return nullptr;
}

// Fractional seconds as Postgres prints them: trailing zeros (and a bare dot) dropped.
void TrimFraction(std::string& text) {
  const size_t dot = text.rfind('.');
  if (dot == std::string::npos || text.find_first_not_of("0123456789", dot + 1) != std::string::npos) return;
  size_t end = text.size();
  while (end > dot + 1 && text[end - 1] == '0') --end;
  if (end == dot + 1) end = dot;
  text.resize(end);
}

// The text format of one value; false for SQL NULL.
bool ValueText(const json::value& value, TextForm form, std::string& text) {
  if (value.is_null()) return false;
  if (form == TextForm::kJson) {
    text = json::serialize(value);
    return true;
  }
  switch (value.kind()) {
    case json::kind::bool_:
      text = value.get_bool() ? "t" : "f";
      return true;
    case json::kind::int64:
      text = std::to_string(value.get_int64());
      return true;
    case json::kind::uint64:
      text = std::to_string(value.get_uint64());
      return true;
    case json::kind::double_: {
      char buffer[32];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.get_double());
      text.assign(buffer, ec == std::errc() ? end : buffer);
      return true;
    }
    case json::kind::string:
      break;
    default:  // arrays and objects of a column that is not Json
      text = json::serialize(value);
      return true;
  }
  const json::string& s = value.get_string();
  text.assign(s.data(), s.size());
  if (form == TextForm::kBytes) {
    auto bytes = Base64Decode(text);
    if (bytes) text = "\\x" + HexEncode(*bytes);
  } else if (form == TextForm::kTimestamp) {
    // RFC 3339 UTC (2026-11-24T05:00:00.123456Z) to 2026-11-24 05:00:00.123456.
    if (text.size() > 10 && text[10] == 'T') text[10] = ' ';
    if (!text.empty() && text.back() == 'Z') text.pop_back();
    TrimFraction(text);
  } else if (form == TextForm::kTime) {
    TrimFraction(text);
  }
  return true;
}

// The binary (send) format of one value; false for SQL NULL. A value that is not of the
// column's type goes as its text, which a client reading binary will refuse loudly.
bool ValueBinary(const json::value& value, const ResultColumn& column, std::string& out) {
  if (value.is_null()) return false;
  switch (column.oid) {
    case oid::kBool:
      if (value.is_bool()) {
        out += value.get_bool() ? '\1' : '\0';
        return true;
      }
      break;
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
      if (value.is_int64() || value.is_uint64()) {
        const int64_t v = value.is_int64() ? value.get_int64() : static_cast<int64_t>(value.get_uint64());
        if (column.oid == oid::kInt2) AppendInt16(out, static_cast<int16_t>(v));
        if (column.oid == oid::kInt4) AppendInt32(out, static_cast<int32_t>(v));
        if (column.oid == oid::kInt8) AppendInt64(out, v);
        return true;
      }
      break;
    case oid::kFloat4:
    case oid::kFloat8:
      if (value.is_number()) {
        const double v = value.to_number<double>();
        if (column.oid == oid::kFloat4) {
          AppendInt32(out, static_cast<int32_t>(std::bit_cast<uint32_t>(static_cast<float>(v))));
        } else {
          AppendInt64(out, static_cast<int64_t>(std::bit_cast<uint64_t>(v)));
        }
        return true;
      }
      break;
    case oid::kNumeric: {
      std::string text;
      ValueText(value, TextForm::kPlain, text);
      if (AppendNumericBinary(out, text)) return true;
      break;
    }
    case oid::kTimestamp:
      if (value.is_string() && AppendTimestampBinary(out, value.get_string())) return true;
      break;
    case oid::kDate:
      if (value.is_string() && AppendDateBinary(out, value.get_string())) return true;
      break;
    case oid::kTime:
      if (value.is_string() && AppendTimeBinary(out, value.get_string())) return true;
      break;
    case oid::kUuid:
      if (value.is_string() && AppendUuidBinary(out, value.get_string())) return true;
      break;
    case oid::kBytea:
      if (value.is_string()) {
        if (auto bytes = Base64Decode(value.get_string())) {
          out += *bytes;
          return true;
        }
      }
      break;
    default:
      break;
  }
  // Text, Json, and what the engine sends without an OID of its own: the text is the binary form.
  std::string text;
  ValueText(value, column.form, text);
  out += text;
  return true;
}

Status Malformed() { return {Code::kInternalError, "A result could not be converted for the Postgres wire"}; }

}  // namespace

Result<ResultRows> ResultRows::Parse(const query::RowSet& rows) {
  ResultRows result;
  boost::system::error_code ec;
  const json::value schema = json::parse(rows.schema_json, ec);
  if (ec || !schema.is_array()) return Malformed();
  for (const json::value& field : schema.get_array()) {
    const json::object* object = field.if_object();
    const json::value* name = object != nullptr ? object->if_contains("name") : nullptr;
    const json::value* data_type = object != nullptr ? object->if_contains("data_type") : nullptr;
    if (name == nullptr || !name->is_string() || data_type == nullptr || !data_type->is_string()) {
      return Malformed();
    }
    ResultColumn column;
    column.name = std::string(name->get_string());
    column.data_type = std::string(data_type->get_string());
    if (const TypeInfo* type = FindType(column.data_type)) {
      column.oid = type->oid;
      column.size = type->size;
      column.form = type->form;
    }
    result.columns_.push_back(std::move(column));
  }
  json::value values = json::parse(rows.rows_json, ec);
  if (ec || !values.is_array()) return Malformed();
  result.rows_ = std::move(values.get_array());
  for (const json::value& row : result.rows_) {
    const json::array* cells = row.if_array();
    if (cells == nullptr || cells->size() != result.columns_.size()) return Malformed();
  }
  return result;
}

int16_t FormatOf(const std::vector<int16_t>& formats, size_t c) {
  if (formats.empty()) return 0;
  return formats.size() == 1 ? formats[0] : formats[c];
}

void ResultRows::AppendDescription(std::string& out, const std::vector<int16_t>& formats) const {
  MessageBuilder description('T');
  description.Int16(static_cast<int16_t>(columns_.size()));
  for (size_t c = 0; c < columns_.size(); ++c) {
    const ResultColumn& column = columns_[c];
    description.CString(column.name).Int32(0).Int16(0).Int32(column.oid).Int16(column.size).Int32(-1).Int16(
        FormatOf(formats, c));
  }
  description.AppendTo(out);
}

bool ResultRows::CellText(size_t i, size_t c, std::string& text) const {
  return ValueText(rows_[i].get_array()[c], columns_[c].form, text);
}

Status ResultRows::AppendRow(std::string& out, size_t i, const std::vector<int16_t>& formats) const {
  const json::array& cells = rows_[i].get_array();
  MessageBuilder data('D');
  data.Int16(static_cast<int16_t>(columns_.size()));
  std::string bytes;
  for (size_t c = 0; c < columns_.size(); ++c) {
    bytes.clear();
    const bool present = FormatOf(formats, c) == kBinaryFormat ? ValueBinary(cells[c], columns_[c], bytes)
                                                               : ValueText(cells[c], columns_[c].form, bytes);
    if (!present) {
      data.Int32(-1);
      continue;
    }
    if (bytes.size() > static_cast<size_t>(INT32_MAX)) return Malformed();
    data.Int32(static_cast<int32_t>(bytes.size())).Bytes(bytes);
  }
  data.AppendTo(out);
  return Status::Ok();
}

Status ResultRows::AppendAll(std::string& out, const std::vector<int16_t>& formats) const {
  AppendDescription(out, formats);
  for (size_t i = 0; i < size(); ++i) KALAM_RETURN_IF_ERROR(AppendRow(out, i, formats));
  return Status::Ok();
}

std::string_view SqlState(Code code) {
  switch (code) {
    case Code::kOk: return "00000";
    case Code::kInvalidSql:
    case Code::kEmptySql: return "42601";  // syntax_error
    case Code::kNotFound: return "42P01";  // undefined_table
    case Code::kAlreadyExists: return "42P07";  // duplicate_table
    case Code::kPermissionDenied: return "42501";
    case Code::kConstraintViolation: return "23505";  // unique_violation
    case Code::kInvalidCredentials:
    case Code::kMissingAuthorization:
    case Code::kInvalidAuthorizationHeader:
    case Code::kTokenExpired:
    case Code::kInvalidToken:
    case Code::kAuthRequired:
    case Code::kUnauthorized: return "28P01";  // invalid_password
    case Code::kTransactionConflict: return "40001";  // serialization_failure
    case Code::kTransactionAborted: return "25P02";  // in_failed_sql_transaction
    case Code::kRateLimitExceeded: return "53400";  // configuration_limit_exceeded
    case Code::kStatementTimeout:
    case Code::kQueryCancelled: return "57014";  // query_canceled
    case Code::kUnsupported: return "0A000";  // feature_not_supported
    case Code::kResourceExhausted:
    case Code::kPayloadTooLarge:
    case Code::kMessageTooLarge:
    case Code::kSubscriptionLimitExceeded: return "53200";  // out_of_memory
    case Code::kServiceUnavailable: return "53300";  // too_many_connections
    case Code::kInvalidParameter:
    case Code::kParamsWithBatch:
    case Code::kInvalidInput:
    case Code::kInvalidSubscriptionId: return "22023";  // invalid_parameter_value
    case Code::kProtocol: return "08P01";  // protocol_violation
    case Code::kSqlExecutionError: return "42000";  // syntax_error_or_access_rule_violation
    case Code::kInternalError: return "XX000";
  }
  return "XX000";
}

}  // namespace kalam::pgwire
