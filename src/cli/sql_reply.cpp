#include "cli/sql_reply.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "cli/json_value.h"

namespace kalam::cli {

namespace json = boost::json;

Value DecodeValue(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return {};
    case json::kind::bool_:
      return {Value::Kind::kBool, v.get_bool() ? "true" : "false"};
    case json::kind::int64:
      return {Value::Kind::kNumber, std::to_string(v.get_int64())};
    case json::kind::uint64:
      return {Value::Kind::kNumber, std::to_string(v.get_uint64())};
    case json::kind::double_:
      return {Value::Kind::kNumber, fmt::format("{}", v.get_double())};
    case json::kind::string:
      return {Value::Kind::kString, std::string(v.get_string())};
    case json::kind::array:
    case json::kind::object:
      return {Value::Kind::kJson, json::serialize(v)};
  }
  return {};
}

namespace {

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

StatementResult ToResult(const json::object& o) {
  StatementResult r;
  r.row_count = IntField(o, "row_count");
  r.message = StringField(o, "message");
  const json::value* schema = o.if_contains("schema");
  const json::value* rows = o.if_contains("rows");
  if (schema == nullptr || !schema->is_array() || rows == nullptr || !rows->is_array()) return r;
  r.has_rows = true;
  for (const json::value& c : schema->get_array()) {
    if (!c.is_object()) continue;
    r.columns.push_back(
        {StringField(c.get_object(), "name"), StringField(c.get_object(), "data_type")});
  }
  for (const json::value& row : rows->get_array()) {
    std::vector<Value> values;
    if (row.is_array()) {
      for (const json::value& cell : row.get_array()) values.push_back(DecodeValue(cell));
    }
    values.resize(r.columns.size());  // a short row reads as NULLs rather than crashing
    r.rows.push_back(std::move(values));
  }
  return r;
}

std::optional<ServerError> ToError(const json::object& body) {
  const json::value* error = body.if_contains("error");
  if (error == nullptr || !error->is_object()) return std::nullopt;
  const json::object& e = error->get_object();
  return ServerError{StringField(e, "code"), StringField(e, "message"),
                     static_cast<int>(IntField(e, "statement_index"))};
}

std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

Result<SqlReply> ParseSqlReply(int http_status, std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return Status(Code::kInternalError, "unexpected answer from the server (HTTP " +
                                            std::to_string(http_status) + "): " + Excerpt(body));
  }
  const json::object& o = parsed.get_object();
  SqlReply reply;
  if (const json::value* results = o.if_contains("results"); results && results->is_array()) {
    for (const json::value& r : results->get_array()) {
      if (r.is_object()) reply.results.push_back(ToResult(r.get_object()));
    }
  }
  if (const json::value* took = o.if_contains("took"); took && took->is_number()) {
    reply.took_ms = took->to_number<double>();
  }
  reply.error = ToError(o);
  if (!reply.error && (http_status != 200 || StringField(o, "status") == "error")) {
    reply.error = ServerError{"HTTP_" + std::to_string(http_status), Excerpt(body), 0};
  }
  return reply;
}

ServerError ParseErrorBody(int http_status, std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    if (auto error = ToError(parsed.get_object())) return *error;
  }
  return {"HTTP_" + std::to_string(http_status), Excerpt(body), 0};
}

bool IsNumericType(std::string_view t) {
  return t == "SmallInt" || t == "Int" || t == "BigInt" || t == "Float" || t == "Double" ||
         t.starts_with("Decimal");
}

}  // namespace kalam::cli
