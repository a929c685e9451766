#include "server/request_body.h"

#include <fmt/format.h>

#include <cmath>

namespace kalam::server {
namespace json = boost::json;
namespace {

Result<std::vector<sql::ParamValue>> Params(const json::value& value) {
  if (!value.is_array()) return Status(Code::kInvalidParameter, "\"params\" must be an array");
  std::vector<sql::ParamValue> params;
  for (const json::value& p : value.as_array()) {
    switch (p.kind()) {
      case json::kind::null: params.emplace_back(std::monostate{}); break;
      case json::kind::bool_: params.emplace_back(p.get_bool()); break;
      case json::kind::int64: params.emplace_back(p.get_int64()); break;
      case json::kind::uint64: params.emplace_back(p.get_uint64()); break;
      case json::kind::double_: params.emplace_back(p.get_double()); break;
      case json::kind::string: params.emplace_back(std::string(p.get_string())); break;
      default:
        return Status(Code::kInvalidParameter,
                      "Parameters must be null, booleans, numbers or strings");
    }
  }
  return params;
}

}  // namespace

Result<json::object> ParseBody(std::string_view body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec) return Status(Code::kInvalidInput, "The request body is not valid JSON: " + ec.message());
  if (!value.is_object()) return Status(Code::kInvalidInput, "The request body must be a JSON object");
  return std::move(value.as_object());
}

Result<std::string> StringField(const json::object& body, const char* name, bool required) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) return Status(Code::kInvalidInput, std::string("Missing field \"") + name + "\"");
    return std::string();
  }
  if (!v->is_string()) {
    return Status(Code::kInvalidInput, std::string("Field \"") + name + "\" must be a string");
  }
  return std::string(v->as_string());
}

Result<std::optional<int64_t>> IntegerField(const json::object& body, const char* name, int64_t minimum,
                                            int64_t maximum) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  std::optional<int64_t> value;
  if (v->is_int64()) value = v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    value = static_cast<int64_t>(v->get_uint64());
  }
  if (v->is_double()) {
    const double d = v->get_double();
    if (std::isfinite(d) && std::trunc(d) == d && d > -9.2e18 && d < 9.2e18) value = static_cast<int64_t>(d);
  }
  if (!value || *value < minimum || *value > maximum) {
    return Status(Code::kInvalidInput,
                  fmt::format("Field \"{}\" must be an integer from {} to {}", name, minimum, maximum));
  }
  return value;
}

Result<SqlBody> ReadSqlBody(std::string_view text) {
  auto body = ParseBody(text);
  if (!body.ok()) return body.status();
  auto sql = StringField(*body, "sql", true);
  if (!sql.ok()) return sql.status();
  auto ns = StringField(*body, "namespace_id", false);
  if (!ns.ok()) return ns.status();
  SqlBody read{std::move(*sql), std::move(*ns), std::nullopt};
  if (const json::value* p = body->if_contains("params"); p != nullptr && !p->is_null()) {
    auto params = Params(*p);
    if (!params.ok()) return params.status();
    read.params = std::move(params).value();
  }
  return read;
}

}  // namespace kalam::server
