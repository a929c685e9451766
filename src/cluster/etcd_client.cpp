#include "cluster/etcd_client.h"

#include <boost/json.hpp>

#include "common/encoding.h"

namespace kalam::cluster {

namespace json = boost::json;

namespace {

// The gateway writes 64-bit integers as JSON strings ("revision": "12").
int64_t Int(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr) return 0;
  if (v->is_string()) {
    try {
      return std::stoll(std::string(v->as_string()));
    } catch (const std::exception&) {
      return 0;
    }
  }
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

std::string Bytes(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (v == nullptr || !v->is_string()) return {};
  return Base64Decode(std::string_view(v->as_string())).value_or(std::string());
}

EtcdKv ReadKv(const json::object& o) {
  return {Bytes(o, "key"), Bytes(o, "value"), Int(o, "create_revision"), Int(o, "mod_revision"),
          Int(o, "lease")};
}

json::object OpJson(const EtcdOp& op) {
  if (op.kind == EtcdOp::Kind::kDelete) {
    return {{"request_delete_range", json::object{{"key", Base64Encode(op.key)}}}};
  }
  json::object put{{"key", Base64Encode(op.key)}, {"value", Base64Encode(op.value)}};
  if (op.lease != 0) put["lease"] = std::to_string(op.lease);
  return {{"request_put", std::move(put)}};
}

json::object CompareJson(const EtcdCompare& c) {
  json::object o{{"key", Base64Encode(c.key)}, {"result", "EQUAL"}};
  switch (c.target) {
    case EtcdCompare::Target::kCreateRevision:
      o["target"] = "CREATE";
      o["create_revision"] = std::to_string(c.revision);
      break;
    case EtcdCompare::Target::kModRevision:
      o["target"] = "MOD";
      o["mod_revision"] = std::to_string(c.revision);
      break;
    case EtcdCompare::Target::kValue:
      o["target"] = "VALUE";
      o["value"] = Base64Encode(c.value);
      break;
  }
  return o;
}

Result<json::object> Parse(const std::string& text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return Status(Code::kInternalError, "etcd answered something that is not a JSON object");
  }
  return std::move(v.as_object());
}

// An answer of Call, read as the JSON object it holds.
Result<json::object> Answer(Result<std::string> text) {
  if (!text.ok()) return text.status();
  return Parse(*text);
}

// The store's revision from an answer's header (0 when missing).
int64_t Revision(const json::object& answer) {
  const json::value* header = answer.if_contains("header");
  return header != nullptr && header->is_object() ? Int(header->as_object(), "revision") : 0;
}

}  // namespace

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {}

Result<std::string> EtcdClient::Call(const std::string& path, const std::string& body) {
  Status last(Code::kServiceUnavailable, "no etcd endpoint is configured");
  for (size_t tried = 0; tried < endpoints_.size(); ++tried) {
    if (!http_) {
      // http://host:port (checked when the configuration was loaded).
      const std::string& url = endpoints_[current_];
      const std::string address = url.substr(7);
      const auto colon = address.rfind(':');
      http_.emplace(address.substr(0, colon),
                    static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
      http_->SetTimeout(timeout_);
    }
    auto response = http_->Send("POST", path, body);
    if (response.ok() && response->status == 200) return std::move(response->body);
    if (response.ok()) {
      // etcd refused the request itself (a bad lease, no leader): the same on any member
      // except for "no leader", which another member may not have.
      std::string message = response->body;
      auto parsed = Parse(response->body);
      if (parsed.ok()) {
        if (const json::value* m = parsed->if_contains("error"); m && m->is_string()) {
          message = std::string(m->as_string());
        } else if (const json::value* m2 = parsed->if_contains("message"); m2 && m2->is_string()) {
          message = std::string(m2->as_string());
        }
      }
      last = Status(Code::kServiceUnavailable, "etcd (" + endpoints_[current_] + "): " + message);
      if (message.find("no leader") == std::string::npos &&
          message.find("timed out") == std::string::npos) {
        return last;
      }
    } else {
      last = Status(Code::kServiceUnavailable,
                    "etcd (" + endpoints_[current_] + ") is unreachable: " + response.status().message());
    }
    http_.reset();
    current_ = (current_ + 1) % endpoints_.size();
  }
  return last;
}

Result<std::optional<EtcdKv>> EtcdClient::Get(const std::string& key) {
  auto o = Answer(Call("/v3/kv/range", json::serialize(json::object{{"key", Base64Encode(key)}})));
  if (!o.ok()) return o.status();
  const json::value* kvs = o->if_contains("kvs");
  if (kvs == nullptr || !kvs->is_array() || kvs->as_array().empty()) return std::optional<EtcdKv>();
  return std::optional<EtcdKv>(ReadKv(kvs->as_array().front().as_object()));
}

Result<std::vector<EtcdKv>> EtcdClient::List(const std::string& prefix) {
  auto o = Answer(Call("/v3/kv/range", json::serialize(json::object{
                                       {"key", Base64Encode(prefix)},
                                       {"range_end", Base64Encode(PrefixEnd(prefix))}})));
  if (!o.ok()) return o.status();
  std::vector<EtcdKv> out;
  if (const json::value* kvs = o->if_contains("kvs"); kvs && kvs->is_array()) {
    for (const json::value& kv : kvs->as_array()) {
      if (kv.is_object()) out.push_back(ReadKv(kv.as_object()));
    }
  }
  return out;
}

Result<int64_t> EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease) {
  json::object body{{"key", Base64Encode(key)}, {"value", Base64Encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  auto o = Answer(Call("/v3/kv/put", json::serialize(body)));
  if (!o.ok()) return o.status();
  return Revision(*o);
}

Result<std::string> EtcdClient::CreateOrRead(const std::string& key, const std::string& value) {
  auto created = Txn({{key, EtcdCompare::Target::kCreateRevision, 0, {}}}, {{EtcdOp::Kind::kPut, key, value, 0}});
  if (!created.ok()) return created.status();
  if (created->succeeded) return value;
  auto stored = Get(key);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return Status(Code::kServiceUnavailable, "etcd key " + key + " vanished while read");
  return (*stored)->value;
}

Result<int64_t> EtcdClient::Delete(const std::string& key) {
  auto o = Answer(Call("/v3/kv/deleterange", json::serialize(json::object{{"key", Base64Encode(key)}})));
  if (!o.ok()) return o.status();
  return Int(*o, "deleted");
}

Result<EtcdTxnResult> EtcdClient::Txn(const std::vector<EtcdCompare>& compare,
                                      const std::vector<EtcdOp>& success,
                                      const std::vector<EtcdOp>& failure) {
  json::array c, s, f;
  for (const auto& x : compare) c.push_back(CompareJson(x));
  for (const auto& x : success) s.push_back(OpJson(x));
  for (const auto& x : failure) f.push_back(OpJson(x));
  auto o = Answer(Call("/v3/kv/txn", json::serialize(json::object{
                                     {"compare", std::move(c)}, {"success", std::move(s)},
                                     {"failure", std::move(f)}})));
  if (!o.ok()) return o.status();
  EtcdTxnResult result;
  if (const json::value* v = o->if_contains("succeeded"); v && v->is_bool()) {
    result.succeeded = v->as_bool();
  }
  result.revision = Revision(*o);
  return result;
}

Result<EtcdLease> EtcdClient::GrantLease(int64_t ttl_secs) {
  auto o = Answer(Call("/v3/lease/grant", json::serialize(json::object{{"TTL", std::to_string(ttl_secs)}})));
  if (!o.ok()) return o.status();
  EtcdLease lease{Int(*o, "ID"), Int(*o, "TTL")};
  if (lease.id == 0) return Status(Code::kServiceUnavailable, "etcd granted no lease");
  return lease;
}

Result<int64_t> EtcdClient::KeepAlive(int64_t lease) {
  auto o = Answer(Call("/v3/lease/keepalive", json::serialize(json::object{{"ID", std::to_string(lease)}})));
  if (!o.ok()) return o.status();
  // A stream's one message: {"result": {"ID": ..., "TTL": ...}}; an expired lease has no TTL.
  const json::value* result = o->if_contains("result");
  if (result == nullptr || !result->is_object()) return int64_t{0};
  return Int(result->as_object(), "TTL");
}

Status EtcdClient::RevokeLease(int64_t lease) {
  auto text = Call("/v3/lease/revoke", json::serialize(json::object{{"ID", std::to_string(lease)}}));
  return text.ok() ? Status::Ok() : text.status();
}

}  // namespace kalam::cluster
