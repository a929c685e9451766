#include "catalog/models.h"

namespace kalam::catalog {

bool RevokesTokens(const User& before, const User& after) {
  return before.password_hash != after.password_hash || before.role != after.role ||
         before.deleted() != after.deleted();
}

bool OnlyBookkeeping(const User& before, const User& after) {
  return before.password_hash == after.password_hash && before.role == after.role &&
         before.email == after.email && before.auth_type == after.auth_type &&
         before.deleted_at == after.deleted_at && before.token_version == after.token_version &&
         before.created_at == after.created_at;
}

std::string_view TableTypeName(TableType type) {
  switch (type) {
    case TableType::kUser: return "user";
    case TableType::kShared: return "shared";
    case TableType::kStream: return "stream";
  }
  return "shared";
}

std::string ColumnDef::SqlType() const {
  if (type == ColumnType::kDecimal) {
    return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
  }
  return std::string(ColumnTypeSqlName(type));
}

int TableSchema::PrimaryKeyIndex() const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].primary_key) return static_cast<int>(i);
  }
  return -1;
}

const ColumnDef* TableSchema::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const TableSchema* TableDef::Version(uint32_t version) const {
  for (const auto& s : schemas) {
    if (s.version == version) return &s;
  }
  return nullptr;
}

std::string TableDef::FlushPolicyJson() const {
  std::string out = "{";
  if (flush_rows) out += "\"rows\":" + std::to_string(*flush_rows);
  if (flush_interval_secs) {
    if (flush_rows) out += ",";
    out += "\"interval_secs\":" + std::to_string(*flush_interval_secs);
  }
  return out + "}";
}

}  // namespace kalam::catalog
