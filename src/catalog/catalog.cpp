#include "catalog/catalog.h"

#include <boost/json.hpp>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/encoding.h"
#include "store/kv_store.h"

namespace kalam::catalog {
namespace json = boost::json;
namespace {

using store::Family;

constexpr std::string_view kUserPrefix = "user/";
constexpr std::string_view kNamespacePrefix = "ns/";
constexpr std::string_view kStoragePrefix = "storage/";
constexpr std::string_view kTablePrefix = "table/";
constexpr std::string_view kNextTableNumKey = "counter/next_table_num";
// The prefixes of the catalog's entries (with kNextTableNumKey, all it keeps).
constexpr std::string_view kEntryPrefixes[] = {kUserPrefix, kNamespacePrefix, kStoragePrefix,
                                               kTablePrefix};
bool IsRecordKey(std::string_view key) {
  for (std::string_view prefix : Catalog::kRecordPrefixes) {
    if (key.starts_with(prefix)) return true;
  }
  return false;
}

// How often a change is tried on a fresher shared catalog before it is refused.
constexpr int kChangeAttempts = 12;

std::string Key(std::string_view prefix, const std::string& id) {
  return std::string(prefix) + id;
}

template <typename T>
json::value Opt(const std::optional<T>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}
template <typename T>
std::optional<T> OptFrom(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return json::value_to<T>(*v);
}

std::string Encode(const User& u) {
  json::object o{{"user_id", u.user_id},
                 {"username", u.username},
                 {"role", std::string(auth::RoleName(u.role))},
                 {"password_hash", u.password_hash},
                 {"scram_verifier", u.scram_verifier},
                 {"email", Opt(u.email)},
                 {"auth_type", u.auth_type},
                 {"created_at", u.created_at},
                 {"updated_at", u.updated_at},
                 {"last_seen", Opt(u.last_seen)},
                 {"deleted_at", Opt(u.deleted_at)},
                 {"token_version", u.token_version}};
  json::array families;
  for (const RefreshFamily& f : u.refresh_families) {
    families.push_back(json::object{{"id", f.id}, {"jti", f.jti}, {"expires_at", f.expires_at}});
  }
  o["refresh_families"] = std::move(families);
  return json::serialize(o);
}
User DecodeUser(const json::object& o) {
  User u;
  u.user_id = json::value_to<std::string>(o.at("user_id"));
  u.username = json::value_to<std::string>(o.at("username"));
  u.role = auth::ParseRole(json::value_to<std::string>(o.at("role"))).value_or(auth::Role::kUser);
  u.password_hash = json::value_to<std::string>(o.at("password_hash"));
  u.scram_verifier = OptFrom<std::string>(o, "scram_verifier").value_or("");  // absent before verifiers
  u.email = OptFrom<std::string>(o, "email");
  u.auth_type = json::value_to<std::string>(o.at("auth_type"));
  u.created_at = o.at("created_at").to_number<int64_t>();
  u.updated_at = o.at("updated_at").to_number<int64_t>();
  u.last_seen = OptFrom<int64_t>(o, "last_seen");
  u.deleted_at = OptFrom<int64_t>(o, "deleted_at");
  // Users stored before tokens were versioned have neither field.
  u.token_version = OptFrom<int64_t>(o, "token_version").value_or(0);
  if (const json::value* families = o.if_contains("refresh_families")) {
    for (const json::value& f : families->as_array()) {
      u.refresh_families.push_back({json::value_to<std::string>(f.at("id")),
                                    json::value_to<std::string>(f.at("jti")),
                                    f.at("expires_at").to_number<int64_t>()});
    }
  }
  return u;
}

std::string Encode(const Namespace& n) {
  json::object o{{"name", n.name}, {"options", n.options_json}, {"created_at", n.created_at}};
  return json::serialize(o);
}
Namespace DecodeNamespace(const json::object& o) {
  Namespace n;
  n.name = json::value_to<std::string>(o.at("name"));
  n.options_json = json::value_to<std::string>(o.at("options"));
  n.created_at = o.at("created_at").to_number<int64_t>();
  return n;
}

std::string Encode(const Storage& s) {
  json::object o{{"storage_id", s.storage_id},
                 {"storage_name", s.storage_name},
                 {"description", s.description},
                 {"storage_type", s.storage_type},
                 {"base_directory", s.base_directory},
                 {"shared_tables_template", s.shared_tables_template},
                 {"user_tables_template", s.user_tables_template},
                 {"created_at", s.created_at},
                 {"updated_at", s.updated_at}};
  return json::serialize(o);
}
Storage DecodeStorage(const json::object& o) {
  Storage s;
  s.storage_id = json::value_to<std::string>(o.at("storage_id"));
  s.storage_name = json::value_to<std::string>(o.at("storage_name"));
  s.description = json::value_to<std::string>(o.at("description"));
  s.storage_type = json::value_to<std::string>(o.at("storage_type"));
  s.base_directory = json::value_to<std::string>(o.at("base_directory"));
  s.shared_tables_template = json::value_to<std::string>(o.at("shared_tables_template"));
  s.user_tables_template = json::value_to<std::string>(o.at("user_tables_template"));
  s.created_at = o.at("created_at").to_number<int64_t>();
  s.updated_at = o.at("updated_at").to_number<int64_t>();
  return s;
}

json::object EncodeColumn(const ColumnDef& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"type", std::string(ColumnTypeSqlName(c.type))},
          {"precision", c.precision},
          {"scale", c.scale},
          {"nullable", c.nullable},
          {"primary_key", c.primary_key},
          {"default", c.default_expr}};
}
ColumnDef DecodeColumn(const json::object& o) {
  ColumnDef c;
  c.id = o.at("id").to_number<uint32_t>();
  c.name = json::value_to<std::string>(o.at("name"));
  c.type = ParseColumnType(json::value_to<std::string>(o.at("type"))).value_or(ColumnType::kText);
  c.precision = o.at("precision").to_number<uint8_t>();
  c.scale = o.at("scale").to_number<uint8_t>();
  c.nullable = o.at("nullable").as_bool();
  c.primary_key = o.at("primary_key").as_bool();
  c.default_expr = json::value_to<std::string>(o.at("default"));
  return c;
}

std::string Encode(const TableDef& t) {
  json::array schemas;
  for (const auto& schema : t.schemas) {
    json::array columns;
    for (const auto& c : schema.columns) columns.push_back(EncodeColumn(c));
    schemas.push_back(json::object{{"version", schema.version},
                                   {"columns", std::move(columns)},
                                   {"changes", schema.changes},
                                   {"created_at", schema.created_at}});
  }
  json::object o{{"table_num", t.table_num},
                 {"ns", t.ns},
                 {"name", t.name},
                 {"type", std::string(TableTypeName(t.type))},
                 {"storage_id", t.storage_id},
                 {"flush_rows", Opt(t.flush_rows)},
                 {"flush_interval_secs", Opt(t.flush_interval_secs)},
                 {"ttl_seconds", Opt(t.ttl_seconds)},
                 {"access_level", t.access_level},
                 {"deleted_retention_hours", t.deleted_retention_hours},
                 {"created_at", t.created_at},
                 {"schemas", std::move(schemas)}};
  return json::serialize(o);
}
TableDef DecodeTable(const json::object& o) {
  TableDef t;
  t.table_num = o.at("table_num").to_number<uint64_t>();
  t.ns = json::value_to<std::string>(o.at("ns"));
  t.name = json::value_to<std::string>(o.at("name"));
  const std::string type = json::value_to<std::string>(o.at("type"));
  t.type = type == "user" ? TableType::kUser : type == "stream" ? TableType::kStream
                                                                : TableType::kShared;
  t.storage_id = json::value_to<std::string>(o.at("storage_id"));
  t.flush_rows = OptFrom<int64_t>(o, "flush_rows");
  t.flush_interval_secs = OptFrom<int64_t>(o, "flush_interval_secs");
  t.ttl_seconds = OptFrom<int64_t>(o, "ttl_seconds");
  t.access_level = json::value_to<std::string>(o.at("access_level"));
  t.deleted_retention_hours = o.at("deleted_retention_hours").to_number<int64_t>();
  t.created_at = o.at("created_at").to_number<int64_t>();
  for (const auto& sv : o.at("schemas").as_array()) {
    const auto& so = sv.as_object();
    TableSchema schema;
    schema.version = so.at("version").to_number<uint32_t>();
    for (const auto& cv : so.at("columns").as_array()) {
      schema.columns.push_back(DecodeColumn(cv.as_object()));
    }
    schema.changes = json::value_to<std::string>(so.at("changes"));
    schema.created_at = so.at("created_at").to_number<int64_t>();
    t.schemas.push_back(std::move(schema));
  }
  return t;
}

std::string NewUserId() {
  std::random_device rd;
  std::string bytes(8, '\0');
  for (auto& c : bytes) c = static_cast<char>(rd());
  return "u_" + HexEncode(bytes);
}

// Namespaces and tables are ^[a-z][a-z0-9_]*$, at most 64 bytes (docs/api.md).
Status ValidateName(const char* what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (ok) return Status::Ok();
  return {Code::kInvalidSql, std::string("Invalid ") + what + " name '" + name +
                                 "': use a lower-case letter followed by letters, digits or '_' "
                                 "(at most 64)"};
}

bool IsReservedNamespace(const std::string& name) {
  return name == "system" || name == "information_schema" || name == "pg_catalog";
}

}  // namespace

const User* CatalogState::FindUserByName(const std::string& username) const {
  auto it = user_by_name.find(username);
  return it == user_by_name.end() ? nullptr : FindUser(it->second);
}
const User* CatalogState::FindUser(const std::string& user_id) const {
  auto it = users.find(user_id);
  return it == users.end() ? nullptr : &it->second;
}

const TableDef* CatalogState::FindTable(const std::string& ns, const std::string& name) const {
  auto it = tables.find(ns + ":" + name);
  return it == tables.end() ? nullptr : &it->second;
}

size_t CatalogState::TableCount(const std::string& ns) const {
  size_t n = 0;
  for (auto it = tables.lower_bound(ns + ":"); it != tables.end() && it->second.ns == ns; ++it) {
    ++n;
  }
  return n;
}

Result<std::unique_ptr<Catalog>> Catalog::Open(store::KvStore& store,
                                               const std::string& storage_dir) {
  std::unique_ptr<Catalog> catalog(new Catalog(store, storage_dir));
  KALAM_RETURN_IF_ERROR(catalog->Load());
  KALAM_RETURN_IF_ERROR(catalog->Bootstrap());
  return catalog;
}

template <typename F>
auto Catalog::Changing(F&& change) -> decltype(change()) {
  std::unique_lock lock(write_mutex_);
  announce_ = 0;
  quiet_ = false;
  auto result = ChangingLocked(change);
  const int64_t announce = std::exchange(announce_, 0);
  lock.unlock();
  TellTablesGone();
  if (announce > 0 && announcer_) announcer_(announce);
  return result;
}

template <typename F>
auto Catalog::ChangingLocked(F&& change) -> decltype(change()) {
  // A change reads the catalog as it is now, not as of the last look.
  if (shared_ != nullptr) {
    if (Status refreshed = RefreshLocked(); !refreshed.ok()) return refreshed;
  }
  for (int attempt = 1;; ++attempt) {
    stale_ = false;
    auto result = change();
    if (!stale_ || attempt == kChangeAttempts) return result;
    // Nodes changing it at once each wait a different while, so one gets through.
    thread_local std::minstd_rand jitter(std::random_device{}());
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % (2u << std::min(attempt, 5))));
    auto fresher = shared_->Read();
    if (!fresher.ok()) return fresher.status();
    KALAM_RETURN_IF_ERROR(Adopt(*fresher));
  }
}

Status Catalog::Persist(const store::WriteSet& changes) {
  if (shared_ != nullptr) {
    auto version = shared_->Write(shared_version_, changes);
    if (!version.ok()) return version.status();
    if (!version->has_value()) {
      stale_ = true;
      return {Code::kTransactionConflict,
              "The catalog kept changing on other nodes meanwhile: try again"};
    }
    // In etcd first: should the local write fail, shared_version_ stays behind, and the
    // next Refresh (or change) takes the shared entries whole.
    KALAM_RETURN_IF_ERROR(store_.Write(changes));
    shared_version_ = **version;
    if (!quiet_) announce_ = shared_version_;
    return Status::Ok();
  }
  return store_.Write(changes);
}

Result<std::vector<std::pair<std::string, std::string>>> Catalog::LocalEntries() {
  std::vector<std::pair<std::string, std::string>> entries;
  for (std::string_view prefix : kEntryPrefixes) {
    KALAM_RETURN_IF_ERROR(store_.Scan(Family::kMeta, prefix, [&](std::string_view key, std::string_view value) {
      entries.emplace_back(std::string(key), std::string(value));
      return true;
    }));
  }
  for (std::string_view prefix : kRecordPrefixes) {
    KALAM_RETURN_IF_ERROR(store_.Scan(Family::kMeta, prefix, [&](std::string_view key, std::string_view value) {
      entries.emplace_back(std::string(key), std::string(value));
      return true;
    }));
  }
  auto counter = store_.Get(Family::kMeta, kNextTableNumKey);
  if (!counter.ok()) return counter.status();
  if (counter->has_value()) entries.emplace_back(std::string(kNextTableNumKey), **counter);
  return entries;
}

Status Catalog::Adopt(const SharedCatalog::Entries& shared) {
  auto local = LocalEntries();
  if (!local.ok()) return local.status();
  std::map<std::string, std::string> wanted;
  for (const auto& [key, value] : shared.entries) {
    bool ours = key == kNextTableNumKey || IsRecordKey(key);
    for (std::string_view prefix : kEntryPrefixes) ours = ours || key.starts_with(prefix);
    if (ours) wanted[key] = value;  // other keys are of a newer version's: not ours to read
  }
  // `local` is wherever this node's storage directory is, whatever the node that wrote
  // it had.
  if (auto it = wanted.find(Key(kStoragePrefix, "local")); it != wanted.end()) {
    try {
      Storage s = DecodeStorage(json::parse(it->second).as_object());
      s.base_directory = storage_dir_;
      it->second = Encode(s);
    } catch (const std::exception& e) {
      return {Code::kInternalError, std::string("the shared catalog's storage 'local' is unreadable: ") + e.what()};
    }
  }
  store::WriteSet changes;
  for (const auto& [key, value] : *local) {
    auto it = wanted.find(key);
    if (it == wanted.end()) {
      changes.Delete(Family::kMeta, key);
    } else if (it->second == value) {
      wanted.erase(it);
    }
  }
  for (auto& [key, value] : wanted) changes.Put(Family::kMeta, key, std::move(value));
  if (!changes.empty()) {
    const std::shared_ptr<const CatalogState> before = snapshot();
    KALAM_RETURN_IF_ERROR(store_.Write(changes));
    KALAM_RETURN_IF_ERROR(LoadLocked());
    // The tables gone, unless their number is another table's now.
    const std::shared_ptr<const CatalogState> after = snapshot();
    std::set<uint64_t> numbers;
    for (const auto& [id, table] : after->tables) numbers.insert(table.table_num);
    std::lock_guard lock(gone_mutex_);
    for (const auto& [id, table] : before->tables) {
      if (!numbers.contains(table.table_num)) gone_.push_back(table);
    }
  }
  shared_version_ = shared.version;
  return Status::Ok();
}

void Catalog::TellTablesGone() {
  std::vector<TableDef> gone;
  {
    std::lock_guard lock(gone_mutex_);
    gone.swap(gone_);
  }
  if (!gone.empty() && on_tables_gone_) on_tables_gone_(gone);
}

Status Catalog::Share(SharedCatalog* shared) {
  Status shared_now = ShareLocked(shared);
  TellTablesGone();
  return shared_now;
}

Status Catalog::ShareLocked(SharedCatalog* shared) {
  std::lock_guard lock(write_mutex_);
  for (int attempt = 1;; ++attempt) {
    auto current = shared->Read();
    if (!current.ok()) return current.status();
    if (current->version != 0) {
      KALAM_RETURN_IF_ERROR(Adopt(*current));
      break;
    }
    // The cluster's first catalog: this node's.
    auto local = LocalEntries();
    if (!local.ok()) return local.status();
    store::WriteSet seed;
    for (auto& [key, value] : *local) seed.Put(Family::kMeta, std::move(key), std::move(value));
    auto written = shared->Write(0, seed);
    if (!written.ok()) return written.status();
    if (written->has_value()) {
      shared_version_ = **written;
      break;
    }
    if (attempt == kChangeAttempts) {
      return {Code::kTransactionConflict, "the shared catalog kept changing while joining"};
    }
  }
  shared_ = shared;
  return Status::Ok();
}

Status Catalog::Refresh() {
  Status refreshed;
  {
    std::lock_guard lock(write_mutex_);
    refreshed = RefreshLocked();
  }
  TellTablesGone();
  return refreshed;
}

Status Catalog::RefreshTo(int64_t version) {
  Status refreshed;
  {
    std::lock_guard lock(write_mutex_);
    if (shared_ != nullptr && shared_version_ >= version) return Status::Ok();
    refreshed = RefreshLocked();
  }
  TellTablesGone();
  return refreshed;
}

bool Catalog::CaughtUpWithNewer() {
  bool newer = false;
  {
    std::lock_guard lock(write_mutex_);
    if (shared_ == nullptr) return false;
    const int64_t had = shared_version_;
    newer = RefreshLocked().ok() && shared_version_ != had;
  }
  TellTablesGone();
  return newer;
}

Status Catalog::RefreshLocked() {
  if (shared_ == nullptr) return Status::Ok();
  auto version = shared_->Version();
  if (!version.ok()) return version.status();
  if (*version == shared_version_) return Status::Ok();
  auto entries = shared_->Read();
  if (!entries.ok()) return entries.status();
  return Adopt(*entries);
}

std::shared_ptr<const CatalogState> Catalog::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return state_;
}

void Catalog::Publish(std::shared_ptr<const CatalogState> next) {
  std::lock_guard lock(snapshot_mutex_);
  state_ = std::move(next);
}

Status Catalog::Load() {
  std::lock_guard lock(write_mutex_);
  return LoadLocked();
}

Status Catalog::LoadLocked() {
  auto state = std::make_shared<CatalogState>();
  Status decode_error;
  auto load = [&](std::string_view prefix, auto&& add) {
    return store_.Scan(Family::kMeta, prefix, [&](std::string_view key, std::string_view value) {
      try {
        add(json::parse(value).as_object());
      } catch (const std::exception& e) {
        decode_error = {Code::kInternalError,
                        "catalog entry " + std::string(key) + " is unreadable: " + e.what()};
        return false;
      }
      return true;
    });
  };
  KALAM_RETURN_IF_ERROR(load(kUserPrefix, [&](const json::object& o) {
    User u = DecodeUser(o);
    // A name taken again after DROP USER is the live user's, whatever order the ids load
    // in (they are random); among dropped ones, the latest made.
    auto [named, fresh] = state->user_by_name.try_emplace(u.username, u.user_id);
    if (!fresh) {
      const User& held = state->users.at(named->second);
      if (held.deleted() && (!u.deleted() || u.created_at > held.created_at)) named->second = u.user_id;
    }
    state->users[u.user_id] = std::move(u);
  }));
  KALAM_RETURN_IF_ERROR(load(kNamespacePrefix, [&](const json::object& o) {
    Namespace n = DecodeNamespace(o);
    state->namespaces[n.name] = std::move(n);
  }));
  KALAM_RETURN_IF_ERROR(load(kStoragePrefix, [&](const json::object& o) {
    Storage s = DecodeStorage(o);
    state->storages[s.storage_id] = std::move(s);
  }));
  KALAM_RETURN_IF_ERROR(load(kTablePrefix, [&](const json::object& o) {
    TableDef t = DecodeTable(o);
    state->next_table_num = std::max(state->next_table_num, t.table_num + 1);
    state->tables[t.id()] = std::move(t);
  }));
  KALAM_RETURN_IF_ERROR(decode_error);
  auto records = std::make_shared<Records>();
  for (std::string_view prefix : kRecordPrefixes) {
    KALAM_RETURN_IF_ERROR(store_.Scan(Family::kMeta, prefix, [&](std::string_view key, std::string_view value) {
      records->emplace(std::string(key), std::string(value));
      return true;
    }));
  }
  state->records = std::move(records);
  // The counter survives dropped tables, so a table number is never reused.
  auto counter = store_.Get(Family::kMeta, kNextTableNumKey);
  if (!counter.ok()) return counter.status();
  if (counter->has_value()) {
    state->next_table_num = std::max<uint64_t>(state->next_table_num, std::stoull(**counter));
  }
  Publish(std::move(state));
  return Status::Ok();
}

Status Catalog::Bootstrap() {
  const std::string& storage_dir = storage_dir_;
  std::lock_guard lock(write_mutex_);
  auto next = std::make_shared<CatalogState>(*snapshot());
  store::WriteSet changes;
  const int64_t now = NowMicros();
  if (!next->namespaces.contains("default")) {
    Namespace n{"default", "{}", now};
    changes.Put(Family::kMeta, Key(kNamespacePrefix, n.name), Encode(n));
    next->namespaces[n.name] = n;
  }
  if (auto local = next->storages.find("local");
      local != next->storages.end() && local->second.base_directory != storage_dir) {
    // The data directory moved (or a backup was restored into another): the local storage
    // is the storage/ directory of wherever it is now.
    local->second.base_directory = storage_dir;
    local->second.updated_at = now;
    changes.Put(Family::kMeta, Key(kStoragePrefix, "local"), Encode(local->second));
  }
  if (!next->storages.contains("local")) {
    Storage s;
    s.storage_id = "local";
    s.storage_name = "Local filesystem";
    s.description = "The built-in storage under the data directory";
    s.base_directory = storage_dir;
    s.created_at = s.updated_at = now;
    changes.Put(Family::kMeta, Key(kStoragePrefix, s.storage_id), Encode(s));
    next->storages[s.storage_id] = s;
  }
  if (!next->users.contains("root")) {
    User root;
    root.user_id = "root";
    root.username = "root";
    root.role = auth::Role::kSystem;
    root.auth_type = "internal";
    root.created_at = root.updated_at = now;
    changes.Put(Family::kMeta, Key(kUserPrefix, root.user_id), Encode(root));
    next->user_by_name[root.username] = root.user_id;
    next->users[root.user_id] = root;
  }
  if (changes.empty()) return Status::Ok();
  KALAM_RETURN_IF_ERROR(Persist(changes));
  Publish(std::move(next));
  return Status::Ok();
}

Status Catalog::ValidateNamespaceName(const std::string& name) {
  KALAM_RETURN_IF_ERROR(ValidateName("namespace", name));
  if (IsReservedNamespace(name)) {
    return {Code::kInvalidSql, "Namespace name '" + name + "' is reserved"};
  }
  return Status::Ok();
}

Status Catalog::ValidateUsername(const std::string& username) {
  bool ok = !username.empty() && username.size() <= 64;
  for (char c : username) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.' || c == '@');
  }
  if (!ok) {
    return {Code::kInvalidSql,
            "Invalid username '" + username +
                "': use 1 to 64 letters, digits or the characters _ - . @"};
  }
  return Status::Ok();
}

Status Catalog::CreateNamespace(const std::string& name, bool if_not_exists) {
  KALAM_RETURN_IF_ERROR(ValidateNamespaceName(name));
  return Changing([&]() -> Status {
    auto current = snapshot();
    if (current->namespaces.contains(name)) {
      if (if_not_exists) return Status::Ok();
      return {Code::kAlreadyExists, "Namespace '" + name + "' already exists"};
    }
    Namespace n{name, "{}", NowMicros()};
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kNamespacePrefix, name), Encode(n));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->namespaces[name] = std::move(n);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Result<std::vector<TableDef>> Catalog::DropNamespace(const std::string& name, bool if_exists,
                                                     bool cascade) {
  if (IsReservedNamespace(name)) {
    return Status(Code::kPermissionDenied, "Namespace '" + name + "' is a system namespace");
  }
  if (name == "default") {
    return Status(Code::kPermissionDenied, "Namespace 'default' can't be dropped");
  }
  return Changing([&]() -> Result<std::vector<TableDef>> {
    auto current = snapshot();
    if (!current->namespaces.contains(name)) {
      if (if_exists) return std::vector<TableDef>();
      return Status(Code::kNotFound, "Namespace '" + name + "' does not exist");
    }
    std::vector<TableDef> dropped;
    for (const auto& [id, table] : current->tables) {
      if (table.ns == name) dropped.push_back(table);
    }
    if (!dropped.empty() && !cascade) {
      return Status(Code::kInvalidSql, "Namespace '" + name + "' holds " +
                                           std::to_string(dropped.size()) +
                                           " table(s): drop them first or use CASCADE");
    }
    store::WriteSet changes;
    changes.Delete(Family::kMeta, Key(kNamespacePrefix, name));
    for (const auto& t : dropped) changes.Delete(Family::kMeta, Key(kTablePrefix, t.id()));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->namespaces.erase(name);
    for (const auto& t : dropped) next->tables.erase(t.id());
    Publish(std::move(next));
    return dropped;
  });
}

Status Catalog::SetNamespaceOptions(const std::string& name,
                                    const std::map<std::string, std::string>& json_options) {
  return Changing([&]() -> Status {
    auto current = snapshot();
    auto it = current->namespaces.find(name);
    if (it == current->namespaces.end()) {
      return {Code::kNotFound, "Namespace '" + name + "' does not exist"};
    }
    Namespace n = it->second;
    json::object options = json::parse(n.options_json).as_object();
    for (const auto& [key, value] : json_options) {
      try {
        options[key] = json::parse(value);
      } catch (const std::exception&) {
        return {Code::kInvalidSql, "Option '" + key + "' has an invalid value"};
      }
    }
    n.options_json = json::serialize(options);
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kNamespacePrefix, name), Encode(n));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->namespaces[name] = std::move(n);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::CreateUser(User user, bool if_not_exists) {
  KALAM_RETURN_IF_ERROR(ValidateUsername(user.username));
  return Changing([&]() -> Status {
    auto current = snapshot();
    if (const User* existing = current->FindUserByName(user.username)) {
      if (!existing->deleted()) {
        if (if_not_exists) return Status::Ok();
        return {Code::kAlreadyExists, "User '" + user.username + "' already exists"};
      }
    }
    // A dropped user's name may be taken again, by a new user_id: the old user's rows stay
    // the old user's.
    do {
      user.user_id = NewUserId();
    } while (current->users.contains(user.user_id));
    user.created_at = user.updated_at = NowMicros();
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kUserPrefix, user.user_id), Encode(user));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->user_by_name[user.username] = user.user_id;
    next->users[user.user_id] = std::move(user);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::ModifyUser(const std::string& user_id, const std::function<bool(User&)>& change) {
  return Changing([&]() -> Status {
    auto current = snapshot();
    const User* found = current->FindUser(user_id);
    if (found == nullptr) return {Code::kNotFound, "User '" + user_id + "' does not exist"};
    User user = *found;
    if (!change(user)) return Status::Ok();
    user.user_id = found->user_id;
    user.username = found->username;
    if (RevokesTokens(*found, user)) user.RevokeTokens();
    quiet_ = OnlyBookkeeping(*found, user);
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kUserPrefix, user.user_id), Encode(user));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->users[user.user_id] = std::move(user);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::ValidateTableName(const std::string& name) { return ValidateName("table", name); }

Result<bool> Catalog::CreateTable(TableDef table, bool if_not_exists) {
  KALAM_RETURN_IF_ERROR(ValidateTableName(table.name));
  return Changing([&]() -> Result<bool> {
    auto current = snapshot();
    if (!current->namespaces.contains(table.ns)) {
      return Status(Code::kNotFound, "Namespace '" + table.ns + "' does not exist");
    }
    if (!current->storages.contains(table.storage_id)) {
      return Status(Code::kNotFound, "Storage '" + table.storage_id + "' does not exist");
    }
    if (current->FindTable(table.ns, table.name) != nullptr) {
      if (if_not_exists) return false;
      return Status(Code::kAlreadyExists,
                    "Table '" + table.ns + "." + table.name + "' already exists");
    }
    auto next = std::make_shared<CatalogState>(*current);
    table.table_num = next->next_table_num++;
    table.created_at = NowMicros();
    for (auto& schema : table.schemas) schema.created_at = table.created_at;
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kTablePrefix, table.id()), Encode(table));
    changes.Put(Family::kMeta, std::string(kNextTableNumKey), std::to_string(next->next_table_num));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    next->tables[table.id()] = std::move(table);
    Publish(std::move(next));
    return true;
  });
}

Result<std::optional<TableDef>> Catalog::DropTable(const std::string& ns, const std::string& name,
                                                   bool if_exists) {
  return Changing([&]() -> Result<std::optional<TableDef>> {
    auto current = snapshot();
    const TableDef* table = current->FindTable(ns, name);
    if (table == nullptr) {
      if (if_exists) return std::optional<TableDef>();
      return Status(Code::kNotFound, "Table '" + ns + "." + name + "' does not exist");
    }
    TableDef dropped = *table;
    store::WriteSet changes;
    changes.Delete(Family::kMeta, Key(kTablePrefix, dropped.id()));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->tables.erase(dropped.id());
    Publish(std::move(next));
    return std::optional<TableDef>(std::move(dropped));
  });
}

Status Catalog::UpdateTable(const TableDef& table) {
  return Changing([&]() -> Status {
    auto current = snapshot();
    if (current->FindTable(table.ns, table.name) == nullptr) {
      return {Code::kNotFound, "Table '" + table.ns + "." + table.name + "' does not exist"};
    }
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kTablePrefix, table.id()), Encode(table));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->tables[table.id()] = table;
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::ChangeRecords(
    const std::function<Status(const Records& records, store::WriteSet& changes)>& change) {
  return Changing([&]() -> Status {
    auto current = snapshot();
    store::WriteSet changes;
    KALAM_RETURN_IF_ERROR(change(*current->records, changes));
    if (changes.empty()) return Status::Ok();
    auto records = std::make_shared<Records>(*current->records);
    for (const store::WriteSet::Op& op : changes.ops()) {
      if (op.family != Family::kMeta || op.range_end || !IsRecordKey(op.key)) {
        return {Code::kInternalError, "a record change touched a key that is not a record's: " + op.key};
      }
      if (op.value) {
        (*records)[op.key] = *op.value;
      } else {
        records->erase(op.key);
      }
    }
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->records = std::move(records);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::ValidateTemplate(const std::string& text, bool user_tables) {
  const std::string kind = user_tables ? "USER_TABLES_TEMPLATE" : "SHARED_TABLES_TEMPLATE";
  if (text.empty() || text.front() == '/') {
    return {Code::kInvalidSql, kind + " must be a relative path inside the base directory"};
  }
  bool has_user = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    const size_t close = text.find('}', i);
    if (close == std::string::npos) return {Code::kInvalidSql, kind + " has an unclosed '{'"};
    const std::string name = text.substr(i + 1, close - i - 1);
    if (name == "userId") {
      has_user = true;
    } else if (name != "namespace" && name != "tableName") {
      return {Code::kInvalidSql, kind + " uses an unknown placeholder {" + name +
                                     "}: use {namespace}, {tableName} or {userId}"};
    }
    i = close;
  }
  // No segment may climb out of the base directory.
  size_t start = 0;
  while (start <= text.size()) {
    size_t slash = text.find('/', start);
    if (slash == std::string::npos) slash = text.size();
    const std::string segment = text.substr(start, slash - start);
    if (segment == ".." || segment == "." || segment.empty()) {
      return {Code::kInvalidSql, kind + " may not hold empty, '.' or '..' segments: '" + text + "'"};
    }
    start = slash + 1;
  }
  if (user_tables && !has_user) return {Code::kInvalidSql, kind + " must hold {userId}"};
  if (!user_tables && has_user) return {Code::kInvalidSql, kind + " can't hold {userId}"};
  return Status::Ok();
}

Status Catalog::CreateStorage(Storage storage, bool if_not_exists) {
  KALAM_RETURN_IF_ERROR(ValidateTemplate(storage.shared_tables_template, false));
  KALAM_RETURN_IF_ERROR(ValidateTemplate(storage.user_tables_template, true));
  return Changing([&]() -> Status {
    auto current = snapshot();
    if (current->storages.contains(storage.storage_id)) {
      if (if_not_exists) return Status::Ok();
      return {Code::kAlreadyExists, "Storage '" + storage.storage_id + "' already exists"};
    }
    storage.created_at = storage.updated_at = NowMicros();
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kStoragePrefix, storage.storage_id), Encode(storage));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->storages[storage.storage_id] = std::move(storage);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::UpdateStorage(const Storage& storage) {
  KALAM_RETURN_IF_ERROR(ValidateTemplate(storage.shared_tables_template, false));
  KALAM_RETURN_IF_ERROR(ValidateTemplate(storage.user_tables_template, true));
  return Changing([&]() -> Status {
    auto current = snapshot();
    if (!current->storages.contains(storage.storage_id)) {
      return {Code::kNotFound, "Storage '" + storage.storage_id + "' does not exist"};
    }
    Storage updated = storage;
    updated.updated_at = NowMicros();
    store::WriteSet changes;
    changes.Put(Family::kMeta, Key(kStoragePrefix, updated.storage_id), Encode(updated));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->storages[updated.storage_id] = std::move(updated);
    Publish(std::move(next));
    return Status::Ok();
  });
}

Status Catalog::DropStorage(const std::string& id, bool if_exists) {
  if (id == "local") return {Code::kPermissionDenied, "The storage 'local' can't be dropped"};
  return Changing([&]() -> Status {
    auto current = snapshot();
    if (!current->storages.contains(id)) {
      if (if_exists) return Status::Ok();
      return {Code::kNotFound, "Storage '" + id + "' does not exist"};
    }
    for (const auto& [table_id, table] : current->tables) {
      if (table.storage_id == id) {
        return {Code::kInvalidSql, "Storage '" + id + "' is used by table '" + table.ns + "." +
                                       table.name + "'"};
      }
    }
    store::WriteSet changes;
    changes.Delete(Family::kMeta, Key(kStoragePrefix, id));
    KALAM_RETURN_IF_ERROR(Persist(changes));
    auto next = std::make_shared<CatalogState>(*current);
    next->storages.erase(id);
    Publish(std::move(next));
    return Status::Ok();
  });
}

}  // namespace kalam::catalog
