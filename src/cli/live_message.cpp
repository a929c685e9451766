#include "cli/live_message.h"

#include <boost/json.hpp>

#include "cli/json_value.h"

namespace kalam::cli {

namespace json = boost::json;

namespace {

std::string Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The rows of the array at key (missing: none), laid out in the order of columns.
std::vector<std::vector<Value>> Rows(const json::object& o, std::string_view key,
                                     const std::vector<Column>& columns) {
  std::vector<std::vector<Value>> out;
  const json::value* rows = o.if_contains(key);
  if (rows == nullptr || !rows->is_array()) return out;
  for (const json::value& row : rows->get_array()) {
    if (!row.is_object()) continue;
    std::vector<Value> values;
    for (const Column& c : columns) {
      const json::value* v = row.get_object().if_contains(c.name);
      values.push_back(v != nullptr ? DecodeValue(*v) : Value{});
    }
    out.push_back(std::move(values));
  }
  return out;
}

}  // namespace

Result<LiveMessage> ParseLiveMessage(std::string_view text, const std::vector<Column>& columns) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    return Status(Code::kInvalidInput,
                  "not a live-query message: " + std::string(text.substr(0, 200)));
  }
  const json::object& o = parsed.get_object();
  LiveMessage m;
  m.type = Field(o, "type");
  m.change_type = Field(o, "change_type");
  m.live_id = Field(o, "live_id");
  m.error = {Field(o, "code"), Field(o, "message"), 0};
  if (const json::value* total = o.if_contains("total_rows"); total && total->is_int64()) {
    m.total_rows = total->get_int64();
  }
  if (const json::value* control = o.if_contains("batch_control");
      control && control->is_object()) {
    m.ready = Field(control->get_object(), "status") == "ready";
  }
  if (const json::value* schema = o.if_contains("schema"); schema && schema->is_array()) {
    for (const json::value& c : schema->get_array()) {
      if (c.is_object()) {
        m.schema.push_back({Field(c.get_object(), "name"), Field(c.get_object(), "data_type")});
      }
    }
  }
  m.rows = Rows(o, "rows", columns);
  m.old_values = Rows(o, "old_values", columns);
  return m;
}

std::vector<Column> LiveColumns(const std::vector<Column>& schema) {
  std::vector<Column> columns = schema;
  for (const Column& c : schema) {
    if (c.name == "_seq") return columns;
  }
  columns.push_back({"_seq", "BigInt"});
  return columns;
}

}  // namespace kalam::cli
