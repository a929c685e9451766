// The relations of pg_catalog, with the columns of PostgreSQL 15 that clients read. Those
// describing objects KalamDB does not have (policies, triggers, publications, ...) exist
// and are empty, so that psql's queries over them bind.
#include "common/role.h"
#include "query/pg_catalog.h"

namespace kalam::query {
namespace {

using duckdb::LogicalType;
using duckdb::Value;
using auth::Role;
using catalog::CatalogState;
using pg::NamespaceOid;

constexpr int64_t kHeapAm = 2;
constexpr int64_t kBtreeAm = 403;
constexpr int64_t kDefaultCollation = 100;
constexpr int64_t kDefaultTablespace = 1663;
constexpr int64_t kDatabaseOid = 5;
constexpr int32_t kUtf8Encoding = 6;
constexpr int64_t kOwner = pg::kRootRoleOid;
const char* const kHiddenPassword = "********";

const LogicalType kOid = LogicalType::BIGINT;
const LogicalType kName = LogicalType::VARCHAR;
const LogicalType kText = LogicalType::VARCHAR;
const LogicalType kChar = LogicalType::VARCHAR;
const LogicalType kBool = LogicalType::BOOLEAN;
const LogicalType kInt2 = LogicalType::SMALLINT;
const LogicalType kInt4 = LogicalType::INTEGER;
const LogicalType kFloat4 = LogicalType::FLOAT;
const LogicalType kTs = LogicalType::TIMESTAMP;
const LogicalType kTextArray = LogicalType::LIST(LogicalType::VARCHAR);
const LogicalType kOidArray = LogicalType::LIST(LogicalType::BIGINT);
const LogicalType kInt2Array = LogicalType::LIST(LogicalType::SMALLINT);

Value Oid(int64_t oid) { return Value::BIGINT(oid); }
Value Str(std::string_view s) { return Value(std::string(s)); }
// A "char"; '\0' is Postgres' empty one.
Value Char(char c) { return Value(c == '\0' ? std::string() : std::string(1, c)); }
Value Bool(bool b) { return Value::BOOLEAN(b); }
Value Int2(int64_t v) { return Value::SMALLINT(static_cast<int16_t>(v)); }
Value Int4(int64_t v) { return Value::INTEGER(static_cast<int32_t>(v)); }
Value Null(const LogicalType& type) { return Value(type); }
Value Int2List(std::vector<int16_t> values) {
  duckdb::vector<Value> list;
  for (int16_t v : values) list.push_back(Value::SMALLINT(v));
  return Value::LIST(LogicalType::SMALLINT, std::move(list));
}

std::vector<Row> NoRows(const CatalogState&, const auth::Caller&) { return {}; }

SystemTable Empty(const char* name, std::vector<SystemColumn> columns) {
  return DefineSystemTable("pg_catalog", name, Role::kUser, std::move(columns), NoRows);
}

// The schemas: KalamDB's namespaces, and the schemas of the system's own relations.
std::vector<std::string> Schemas(const CatalogState& state) {
  std::vector<std::string> schemas = {"pg_catalog", "information_schema", "system"};
  for (const auto& [name, ns] : state.namespaces) schemas.push_back(name);
  return schemas;
}

SystemTable PgNamespace() {
  return DefineSystemTable(
      "pg_catalog", "pg_namespace", Role::kUser,
      {{"oid", kOid}, {"nspname", kName}, {"nspowner", kOid}, {"nspacl", kTextArray}},
      [](const CatalogState& state, const auth::Caller&) {
        std::vector<Row> rows;
        for (const std::string& s : Schemas(state)) {
          rows.push_back({Oid(NamespaceOid(s)), Str(s), Oid(kOwner), Null(kTextArray)});
        }
        return rows;
      });
}

SystemTable PgClass() {
  return DefineSystemTable(
      "pg_catalog", "pg_class", Role::kUser,
      {{"oid", kOid}, {"relname", kName}, {"relnamespace", kOid}, {"reltype", kOid},
       {"reloftype", kOid}, {"relowner", kOid}, {"relam", kOid}, {"relfilenode", kOid},
       {"reltablespace", kOid}, {"relpages", kInt4}, {"reltuples", kFloat4},
       {"relallvisible", kInt4}, {"reltoastrelid", kOid}, {"relhasindex", kBool},
       {"relisshared", kBool}, {"relpersistence", kChar}, {"relkind", kChar},
       {"relnatts", kInt2}, {"relchecks", kInt2}, {"relhasrules", kBool},
       {"relhastriggers", kBool}, {"relhassubclass", kBool}, {"relrowsecurity", kBool},
       {"relforcerowsecurity", kBool}, {"relispopulated", kBool}, {"relreplident", kChar},
       {"relispartition", kBool}, {"relrewrite", kOid}, {"relfrozenxid", kOid},
       {"relminmxid", kOid}, {"relacl", kTextArray}, {"reloptions", kTextArray},
       {"relpartbound", kText}},
      [](const CatalogState& state, const auth::Caller& caller) {
        std::vector<Row> rows;
        auto add = [&rows](int64_t oid, const std::string& name, int64_t ns, int64_t am,
                           bool has_index, char kind, size_t natts) {
          rows.push_back({Oid(oid), Str(name), Oid(ns), Oid(0), Oid(0), Oid(kOwner), Oid(am),
                          Oid(oid), Oid(0), Int4(0), Value::FLOAT(-1), Int4(0), Oid(0),
                          Bool(has_index), Bool(false), Char('p'), Char(kind), Int2(natts),
                          Int2(0), Bool(false), Bool(false), Bool(false), Bool(false),
                          Bool(false), Bool(true), Char('d'), Bool(false), Oid(0), Oid(0),
                          Oid(0), Null(kTextArray), Null(kTextArray), Null(kText)});
        };
        for (const pg::Relation& r : pg::Relations(state, caller)) {
          size_t natts = 0;
          for (const auto& a : r.attributes) natts += a.number > 0 ? 1 : 0;
          add(r.oid, r.name, NamespaceOid(r.schema), kHeapAm, r.primary_key != 0, 'r', natts);
          if (r.primary_key != 0) add(r.IndexOid(), r.IndexName(), NamespaceOid(r.schema), kBtreeAm, false, 'i', 1);
        }
        return rows;
      });
}

SystemTable PgAttribute() {
  return DefineSystemTable(
      "pg_catalog", "pg_attribute", Role::kUser,
      {{"attrelid", kOid}, {"attname", kName}, {"atttypid", kOid}, {"attstattarget", kInt4},
       {"attlen", kInt2}, {"attnum", kInt2}, {"attndims", kInt4}, {"attcacheoff", kInt4},
       {"atttypmod", kInt4}, {"attbyval", kBool}, {"attalign", kChar}, {"attstorage", kChar},
       {"attcompression", kChar}, {"attnotnull", kBool}, {"atthasdef", kBool},
       {"atthasmissing", kBool}, {"attidentity", kChar}, {"attgenerated", kChar},
       {"attisdropped", kBool}, {"attislocal", kBool}, {"attinhcount", kInt4},
       {"attcollation", kOid}, {"attacl", kTextArray}, {"attoptions", kTextArray},
       {"attfdwoptions", kTextArray}, {"attmissingval", kText}},
      [](const CatalogState& state, const auth::Caller& caller) {
        std::vector<Row> rows;
        auto add = [&rows](int64_t relid, const pg::Attribute& a, int16_t number) {
          const pg::TypeRef type = pg::TypeOf(a.type);
          int16_t length = -1;
          bool by_value = false;
          char category = 'S';
          for (const pg::Type& t : pg::Types()) {
            if (t.oid != type.oid) continue;
            length = t.length;
            by_value = t.by_value;
            category = t.category;
          }
          const bool collatable = category == 'S';
          rows.push_back({Oid(relid), Str(a.name), Oid(type.oid), Int4(-1), Int2(length),
                          Int2(number), Int4(category == 'A' ? 1 : 0), Int4(-1),
                          Int4(type.typmod), Bool(by_value), Char('i'), Char(length == -1 ? 'x' : 'p'),
                          Char('\0'),
                          Bool(a.not_null), Bool(!a.default_expr.empty()), Bool(false),
                          Char('\0'), Char('\0'), Bool(false), Bool(true), Int4(0),
                          Oid(collatable ? kDefaultCollation : 0), Null(kTextArray),
                          Null(kTextArray), Null(kTextArray), Null(kText)});
        };
        for (const pg::Relation& r : pg::Relations(state, caller)) {
          for (const pg::Attribute& a : r.attributes) {
            add(r.oid, a, a.number);
            if (a.number == r.primary_key && r.primary_key != 0) add(r.IndexOid(), a, 1);
          }
        }
        return rows;
      });
}

SystemTable PgAttrdef() {
  return DefineSystemTable(
      "pg_catalog", "pg_attrdef", Role::kUser,
      {{"oid", kOid}, {"adrelid", kOid}, {"adnum", kInt2}, {"adbin", kText}},
      [](const CatalogState& state, const auth::Caller& caller) {
        // adbin holds the expression's SQL, which pg_get_expr returns as it is.
        std::vector<Row> rows;
        for (const pg::Relation& r : pg::Relations(state, caller)) {
          for (const pg::Attribute& a : r.attributes) {
            if (a.default_expr.empty()) continue;
            rows.push_back({Oid(r.oid + 3), Oid(r.oid), Int2(a.number), Str(a.default_expr)});
          }
        }
        return rows;
      });
}

SystemTable PgIndex() {
  return DefineSystemTable(
      "pg_catalog", "pg_index", Role::kUser,
      {{"indexrelid", kOid}, {"indrelid", kOid}, {"indnatts", kInt2}, {"indnkeyatts", kInt2},
       {"indisunique", kBool}, {"indnullsnotdistinct", kBool}, {"indisprimary", kBool},
       {"indisexclusion", kBool}, {"indimmediate", kBool}, {"indisclustered", kBool},
       {"indisvalid", kBool}, {"indcheckxmin", kBool}, {"indisready", kBool},
       {"indislive", kBool}, {"indisreplident", kBool}, {"indkey", kInt2Array},
       {"indcollation", kOidArray}, {"indclass", kOidArray}, {"indoption", kInt2Array},
       {"indexprs", kText}, {"indpred", kText}},
      [](const CatalogState& state, const auth::Caller& caller) {
        std::vector<Row> rows;
        for (const pg::Relation& r : pg::Relations(state, caller)) {
          if (r.primary_key == 0) continue;
          rows.push_back({Oid(r.IndexOid()), Oid(r.oid), Int2(1), Int2(1), Bool(true),
                          Bool(false), Bool(true), Bool(false), Bool(true), Bool(false),
                          Bool(true), Bool(false), Bool(true), Bool(true), Bool(false),
                          Int2List({r.primary_key}), Null(kOidArray), Null(kOidArray),
                          Int2List({0}), Null(kText), Null(kText)});
        }
        return rows;
      });
}

SystemTable PgConstraint() {
  return DefineSystemTable(
      "pg_catalog", "pg_constraint", Role::kUser,
      {{"oid", kOid}, {"conname", kName}, {"connamespace", kOid}, {"contype", kChar},
       {"condeferrable", kBool}, {"condeferred", kBool}, {"convalidated", kBool},
       {"conrelid", kOid}, {"contypid", kOid}, {"conindid", kOid}, {"conparentid", kOid},
       {"confrelid", kOid}, {"confupdtype", kChar}, {"confdeltype", kChar},
       {"confmatchtype", kChar}, {"conislocal", kBool}, {"coninhcount", kInt4},
       {"connoinherit", kBool}, {"conkey", kInt2Array}, {"confkey", kInt2Array},
       {"conpfeqop", kOidArray}, {"conppeqop", kOidArray}, {"conffeqop", kOidArray},
       {"conexclop", kOidArray}, {"conbin", kText}},
      [](const CatalogState& state, const auth::Caller& caller) {
        std::vector<Row> rows;
        for (const pg::Relation& r : pg::Relations(state, caller)) {
          if (r.primary_key == 0) continue;
          rows.push_back({Oid(r.ConstraintOid()), Str(r.IndexName()), Oid(NamespaceOid(r.schema)),
                          Char('p'), Bool(false), Bool(false), Bool(true), Oid(r.oid), Oid(0),
                          Oid(r.IndexOid()), Oid(0), Oid(0), Char(' '), Char(' '), Char(' '),
                          Bool(true), Int4(0), Bool(true), Int2List({r.primary_key}),
                          Null(kInt2Array), Null(kOidArray), Null(kOidArray), Null(kOidArray),
                          Null(kOidArray), Null(kText)});
        }
        return rows;
      });
}

SystemTable PgType() {
  return DefineSystemTable(
      "pg_catalog", "pg_type", Role::kUser,
      {{"oid", kOid}, {"typname", kName}, {"typnamespace", kOid}, {"typowner", kOid},
       {"typlen", kInt2}, {"typbyval", kBool}, {"typtype", kChar}, {"typcategory", kChar},
       {"typispreferred", kBool}, {"typisdefined", kBool}, {"typdelim", kChar},
       {"typrelid", kOid}, {"typsubscript", kText}, {"typelem", kOid}, {"typarray", kOid},
       {"typinput", kText}, {"typoutput", kText}, {"typreceive", kText}, {"typsend", kText},
       {"typmodin", kText}, {"typmodout", kText}, {"typanalyze", kText}, {"typalign", kChar},
       {"typstorage", kChar}, {"typnotnull", kBool}, {"typbasetype", kOid},
       {"typtypmod", kInt4}, {"typndims", kInt4}, {"typcollation", kOid},
       {"typdefaultbin", kText}, {"typdefault", kText}, {"typacl", kTextArray}},
      [](const CatalogState&, const auth::Caller&) {
        std::vector<Row> rows;
        for (const pg::Type& t : pg::Types()) {
          const std::string io = t.element != 0 ? "array" : t.name;
          rows.push_back({Oid(t.oid), Str(t.name), Oid(11), Oid(kOwner), Int2(t.length),
                          Bool(t.by_value), Char('b'), Char(t.category), Bool(false),
                          Bool(true), Char(','), Oid(0), Str(t.element != 0 ? "array_subscript_handler" : "-"),
                          Oid(t.element), Oid(t.array), Str(io + "_in"), Str(io + "_out"),
                          Str(io + "_recv"), Str(io + "_send"), Str("-"), Str("-"), Str("-"),
                          Char(t.length == 8 ? 'd' : 'i'), Char(t.length == -1 ? 'x' : 'p'),
                          Bool(false), Oid(0), Int4(-1), Int4(0),
                          Oid(t.category == 'S' ? kDefaultCollation : 0), Null(kText),
                          Null(kText), Null(kTextArray)});
        }
        return rows;
      });
}

// A user as a role: rolsuper for dba and system (who may do everything), rolcreatedb for
// those who create namespaces (service and up), rolcreaterole for those who manage users.
struct RoleFlags {
  bool super, create_db, create_role, can_login;
};
RoleFlags FlagsOf(const catalog::User& user) {
  return {auth::IsAdmin(user.role), auth::MayRunDdl(user.role), auth::IsAdmin(user.role),
          !user.deleted()};
}

SystemTable PgRoles() {
  return DefineSystemTable(
      "pg_catalog", "pg_roles", Role::kUser,
      {{"rolname", kName}, {"rolsuper", kBool}, {"rolinherit", kBool},
       {"rolcreaterole", kBool}, {"rolcreatedb", kBool}, {"rolcanlogin", kBool},
       {"rolreplication", kBool}, {"rolconnlimit", kInt4}, {"rolpassword", kText},
       {"rolvaliduntil", kTs}, {"rolbypassrls", kBool}, {"rolconfig", kTextArray},
       {"oid", kOid}},
      [](const CatalogState& state, const auth::Caller& caller) {
        // As system.users: others' roles only to admins; no password, ever.
        std::vector<Row> rows;
        for (const auto& [id, user] : state.users) {
          if (!auth::MaySeeUser(caller, id)) continue;
          const RoleFlags f = FlagsOf(user);
          rows.push_back({Str(user.username), Bool(f.super), Bool(true), Bool(f.create_role),
                          Bool(f.create_db), Bool(f.can_login), Bool(false), Int4(-1),
                          Str(kHiddenPassword), Null(kTs), Bool(f.super), Null(kTextArray),
                          Oid(pg::RoleOid(user))});
        }
        return rows;
      });
}

SystemTable PgUser() {
  return DefineSystemTable(
      "pg_catalog", "pg_user", Role::kUser,
      {{"usename", kName}, {"usesysid", kOid}, {"usecreatedb", kBool}, {"usesuper", kBool},
       {"userepl", kBool}, {"usebypassrls", kBool}, {"passwd", kText}, {"valuntil", kTs},
       {"useconfig", kTextArray}},
      [](const CatalogState& state, const auth::Caller& caller) {
        std::vector<Row> rows;
        for (const auto& [id, user] : state.users) {
          if (!auth::MaySeeUser(caller, id) || user.deleted()) continue;
          const RoleFlags f = FlagsOf(user);
          rows.push_back({Str(user.username), Oid(pg::RoleOid(user)), Bool(f.create_db),
                          Bool(f.super), Bool(false), Bool(f.super), Str(kHiddenPassword),
                          Null(kTs), Null(kTextArray)});
        }
        return rows;
      });
}

SystemTable PgDatabase() {
  return DefineSystemTable(
      "pg_catalog", "pg_database", Role::kUser,
      {{"oid", kOid}, {"datname", kName}, {"datdba", kOid}, {"encoding", kInt4},
       {"datlocprovider", kChar}, {"datistemplate", kBool}, {"datallowconn", kBool},
       {"datconnlimit", kInt4}, {"datfrozenxid", kOid}, {"datminmxid", kOid},
       {"dattablespace", kOid}, {"datcollate", kText}, {"datctype", kText},
       {"daticulocale", kText}, {"datcollversion", kText}, {"datacl", kTextArray}},
      [](const CatalogState&, const auth::Caller&) {
        return std::vector<Row>{{Oid(kDatabaseOid), Str(pg::kDatabaseName), Oid(kOwner),
                                 Int4(kUtf8Encoding), Char('c'), Bool(false), Bool(true),
                                 Int4(-1), Oid(0), Oid(0), Oid(kDefaultTablespace),
                                 Str("C.UTF-8"), Str("C.UTF-8"), Null(kText), Null(kText),
                                 Null(kTextArray)}};
      });
}

SystemTable PgTables() {
  return DefineSystemTable(
      "pg_catalog", "pg_tables", Role::kUser,
      {{"schemaname", kName}, {"tablename", kName}, {"tableowner", kName},
       {"tablespace", kName}, {"hasindexes", kBool}, {"hasrules", kBool},
       {"hastriggers", kBool}, {"rowsecurity", kBool}},
      [](const CatalogState& state, const auth::Caller& caller) {
        std::vector<Row> rows;
        const std::string owner = pg::RoleName(state, caller, kOwner).value_or("root");
        for (const pg::Relation& r : pg::Relations(state, caller)) {
          rows.push_back({Str(r.schema), Str(r.name), Str(owner), Null(kName),
                          Bool(r.primary_key != 0), Bool(false), Bool(false), Bool(false)});
        }
        return rows;
      });
}

// Only settings that describe the session as a client sees it; the engine's own settings
// (its directories, memory, threads) are not KalamDB's to show.
SystemTable PgSettings() {
  return DefineSystemTable(
      "pg_catalog", "pg_settings", Role::kUser,
      {{"name", kText}, {"setting", kText}, {"unit", kText}, {"category", kText},
       {"short_desc", kText}, {"extra_desc", kText}, {"context", kText}, {"vartype", kText},
       {"source", kText}, {"min_val", kText}, {"max_val", kText}, {"enumvals", kTextArray},
       {"boot_val", kText}, {"reset_val", kText}, {"sourcefile", kText},
       {"sourceline", kInt4}, {"pending_restart", kBool}},
      [](const CatalogState&, const auth::Caller&) {
        std::vector<Row> rows;
        for (const auto& [name, value] : pg::kFixedSettings) {
          rows.push_back({Str(name), Str(value), Null(kText), Str("Client Connection Defaults"),
                          Null(kText), Null(kText), Str("internal"), Str("string"),
                          Str("default"), Null(kText), Null(kText), Null(kTextArray), Str(value),
                          Str(value), Null(kText), Null(LogicalType::INTEGER), Bool(false)});
        }
        return rows;
      });
}

SystemTable Constant(const char* name, std::vector<SystemColumn> columns, std::vector<Row> rows) {
  return DefineSystemTable("pg_catalog", name, Role::kUser, std::move(columns),
                           [rows = std::move(rows)](const CatalogState&, const auth::Caller&) {
                             return rows;
                           });
}

}  // namespace

std::vector<SystemTable> PgCatalogTables() {
  std::vector<SystemTable> tables;
  tables.push_back(PgNamespace());
  tables.push_back(PgClass());
  tables.push_back(PgAttribute());
  tables.push_back(PgAttrdef());
  tables.push_back(PgIndex());
  tables.push_back(PgConstraint());
  tables.push_back(PgType());
  tables.push_back(PgRoles());
  tables.push_back(PgUser());
  tables.push_back(PgDatabase());
  tables.push_back(PgTables());
  tables.push_back(PgSettings());
  tables.push_back(Constant("pg_am",
                            {{"oid", kOid}, {"amname", kName}, {"amhandler", kText}, {"amtype", kChar}},
                            {{Oid(kHeapAm), Str("heap"), Str("heap_tableam_handler"), Char('t')},
                             {Oid(kBtreeAm), Str("btree"), Str("bthandler"), Char('i')}}));
  tables.push_back(Constant(
      "pg_collation",
      {{"oid", kOid}, {"collname", kName}, {"collnamespace", kOid}, {"collowner", kOid},
       {"collprovider", kChar}, {"collisdeterministic", kBool}, {"collencoding", kInt4},
       {"collcollate", kText}, {"collctype", kText}, {"colliculocale", kText},
       {"collversion", kText}},
      {{Oid(kDefaultCollation), Str("default"), Oid(11), Oid(kOwner), Char('d'), Bool(true),
        Int4(-1), Null(kText), Null(kText), Null(kText), Null(kText)},
       {Oid(950), Str("C"), Oid(11), Oid(kOwner), Char('c'), Bool(true), Int4(-1), Str("C"),
        Str("C"), Null(kText), Null(kText)}}));
  tables.push_back(Constant(
      "pg_tablespace",
      {{"oid", kOid}, {"spcname", kName}, {"spcowner", kOid}, {"spcacl", kTextArray},
       {"spcoptions", kTextArray}},
      {{Oid(kDefaultTablespace), Str("pg_default"), Oid(kOwner), Null(kTextArray), Null(kTextArray)}}));
  tables.push_back(Empty("pg_description", {{"objoid", kOid}, {"classoid", kOid},
                                            {"objsubid", kInt4}, {"description", kText}}));
  tables.push_back(Empty("pg_shdescription",
                         {{"objoid", kOid}, {"classoid", kOid}, {"description", kText}}));
  tables.push_back(Empty("pg_inherits", {{"inhrelid", kOid}, {"inhparent", kOid},
                                         {"inhseqno", kInt4}, {"inhdetachpending", kBool}}));
  tables.push_back(Empty("pg_policy", {{"oid", kOid}, {"polname", kName}, {"polrelid", kOid},
                                       {"polcmd", kChar}, {"polpermissive", kBool},
                                       {"polroles", kOidArray}, {"polqual", kText},
                                       {"polwithcheck", kText}}));
  tables.push_back(Empty(
      "pg_trigger",
      {{"oid", kOid}, {"tgrelid", kOid}, {"tgparentid", kOid}, {"tgname", kName},
       {"tgfoid", kOid}, {"tgtype", kInt2}, {"tgenabled", kChar}, {"tgisinternal", kBool},
       {"tgconstrrelid", kOid}, {"tgconstrindid", kOid}, {"tgconstraint", kOid},
       {"tgdeferrable", kBool}, {"tginitdeferred", kBool}, {"tgnargs", kInt2},
       {"tgattr", kInt2Array}, {"tgargs", kText}, {"tgqual", kText}, {"tgoldtable", kName},
       {"tgnewtable", kName}}));
  tables.push_back(Empty("pg_statistic_ext",
                         {{"oid", kOid}, {"stxrelid", kOid}, {"stxname", kName},
                          {"stxnamespace", kOid}, {"stxowner", kOid}, {"stxstattarget", kInt4},
                          {"stxkeys", kInt2Array}, {"stxkind", kTextArray}, {"stxexprs", kText}}));
  tables.push_back(Empty("pg_publication",
                         {{"oid", kOid}, {"pubname", kName}, {"pubowner", kOid},
                          {"puballtables", kBool}, {"pubinsert", kBool}, {"pubupdate", kBool},
                          {"pubdelete", kBool}, {"pubtruncate", kBool}, {"pubviaroot", kBool}}));
  tables.push_back(Empty("pg_publication_rel",
                         {{"oid", kOid}, {"prpubid", kOid}, {"prrelid", kOid},
                          {"prqual", kText}, {"prattrs", kInt2Array}}));
  tables.push_back(Empty("pg_publication_namespace",
                         {{"oid", kOid}, {"pnpubid", kOid}, {"pnnspid", kOid}}));
  tables.push_back(Empty("pg_auth_members", {{"roleid", kOid}, {"member", kOid},
                                             {"grantor", kOid}, {"admin_option", kBool}}));
  tables.push_back(Empty(
      "pg_proc",
      {{"oid", kOid}, {"proname", kName}, {"pronamespace", kOid}, {"proowner", kOid},
       {"prolang", kOid}, {"procost", kFloat4}, {"prorows", kFloat4}, {"provariadic", kOid},
       {"prosupport", kText}, {"prokind", kChar}, {"prosecdef", kBool},
       {"proleakproof", kBool}, {"proisstrict", kBool}, {"proretset", kBool},
       {"provolatile", kChar}, {"proparallel", kChar}, {"pronargs", kInt2},
       {"pronargdefaults", kInt2}, {"prorettype", kOid}, {"proargtypes", kOidArray},
       {"proallargtypes", kOidArray}, {"proargmodes", kTextArray},
       {"proargnames", kTextArray}, {"proargdefaults", kText}, {"protrftypes", kOidArray},
       {"prosrc", kText}, {"probin", kText}, {"prosqlbody", kText}, {"proconfig", kTextArray},
       {"proacl", kTextArray}}));
  tables.push_back(Empty("pg_extension",
                         {{"oid", kOid}, {"extname", kName}, {"extowner", kOid},
                          {"extnamespace", kOid}, {"extrelocatable", kBool},
                          {"extversion", kText}, {"extconfig", kOidArray},
                          {"extcondition", kTextArray}}));
  tables.push_back(Empty("pg_views", {{"schemaname", kName}, {"viewname", kName},
                                      {"viewowner", kName}, {"definition", kText}}));
  return tables;
}

}  // namespace kalam::query
