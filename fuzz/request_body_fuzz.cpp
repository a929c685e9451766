// The JSON bodies of HTTP requests as the server reads them: POST /v1/api/sql (sql, params,
// namespace_id) and the fields of the login, refresh and topic routes. Errors carry the
// API's codes; integers come back within their bounds; parameters keep their JSON kinds
// and count; a single statement binds its parameters or says why not.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/request_body.h"
#include "sql/params.h"
#include "sql/splitter.h"

namespace {

namespace json = boost::json;
using kalam::Code;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

// The kind a parameter has when it came from JSON value v.
bool SameKind(const kalam::sql::ParamValue& param, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return std::holds_alternative<std::monostate>(param);
    case json::kind::bool_: return std::holds_alternative<bool>(param) && std::get<bool>(param) == v.get_bool();
    case json::kind::int64: return std::holds_alternative<int64_t>(param) && std::get<int64_t>(param) == v.get_int64();
    case json::kind::uint64: return std::holds_alternative<uint64_t>(param) && std::get<uint64_t>(param) == v.get_uint64();
    case json::kind::double_: return std::holds_alternative<double>(param);
    case json::kind::string: return std::holds_alternative<std::string>(param) && std::get<std::string>(param) == v.get_string();
    default: return false;
  }
}

void CheckFields(const json::object& body) {
  for (const char* name : {"username", "password", "refresh_token", "topic_id", "group_id"}) {
    for (const bool required : {false, true}) {
      auto field = kalam::server::StringField(body, name, required);
      Check(field.ok() || field.status().code() == Code::kInvalidInput);
    }
  }
  struct Bounds {
    const char* name;
    int64_t minimum, maximum;
  };
  for (const Bounds& b : {Bounds{"limit", 1, 1000}, Bounds{"partition_id", 0, 63},
                          Bounds{"timeout_seconds", 0, 30}, Bounds{"upto_offset", 0, INT64_MAX},
                          Bounds{"offset", INT64_MIN, INT64_MAX}}) {
    auto field = kalam::server::IntegerField(body, b.name, b.minimum, b.maximum);
    Check(field.ok() || field.status().code() == Code::kInvalidInput);
    if (field.ok() && *field) Check(**field >= b.minimum && **field <= b.maximum);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = kalam::server::ParseBody(text);
  Check(body.ok() || body.status().code() == Code::kInvalidInput);
  if (body.ok()) CheckFields(*body);

  auto sql_body = kalam::server::ReadSqlBody(text);
  if (!sql_body.ok()) {
    const Code code = sql_body.status().code();
    Check((code == Code::kInvalidInput || code == Code::kInvalidParameter) && !sql_body.status().message().empty());
    return 0;
  }
  Check(body.ok());  // a SQL body is a body
  Check(*body->if_contains("sql") == json::value(sql_body->sql));
  if (sql_body->params) {
    const json::array& array = body->at("params").as_array();
    Check(array.size() == sql_body->params->size());
    for (size_t i = 0; i < array.size(); ++i) Check(SameKind((*sql_body->params)[i], array[i]));
    // As the executor does with one statement: bind them, or say why not.
    const std::vector<std::string> statements = kalam::sql::SplitStatements(sql_body->sql);
    if (statements.size() == 1) {
      auto bound = kalam::sql::BindParams(statements[0], *sql_body->params);
      Check(bound.ok() || bound.status().code() == Code::kInvalidParameter);
    }
  }
  return 0;
}
