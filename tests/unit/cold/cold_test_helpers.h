// Helpers shared by the unit tests of cold storage.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../temp_dir.h"
#include "catalog/models.h"

namespace kalam::cold::testing {

using kalam::testing::TempDir;

inline catalog::ColumnDef Column(uint32_t id, std::string name, ColumnType type,
                                 bool primary_key = false, std::string default_expr = {}) {
  catalog::ColumnDef c;
  c.id = id;
  c.name = std::move(name);
  c.type = type;
  c.primary_key = primary_key;
  c.nullable = !primary_key;
  c.default_expr = std::move(default_expr);
  return c;
}

// A SHARED table ns.t whose schema versions have the given columns, oldest first.
inline catalog::TableDef Table(std::vector<std::vector<catalog::ColumnDef>> versions) {
  catalog::TableDef table;
  table.table_num = 9;
  table.ns = "ns";
  table.name = "t";
  table.type = catalog::TableType::kShared;
  for (size_t i = 0; i < versions.size(); ++i) {
    catalog::TableSchema schema;
    schema.version = static_cast<uint32_t>(i + 1);
    schema.columns = std::move(versions[i]);
    table.schemas.push_back(std::move(schema));
  }
  return table;
}

}  // namespace kalam::cold::testing
