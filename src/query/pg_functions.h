// The pg_catalog functions Postgres clients call (psql's \d family, drivers' metadata
// queries), as an allow-list the guard applies: a call of pg_catalog.f (or of f) is
// rewritten to what answers it here, and any other pg_catalog.f is refused. The engine's
// own pg_catalog macros never run for them: some read the engine's catalog, not KalamDB's.
// Internal to query/ (DuckDB types).
#pragma once

#include <duckdb.hpp>
#include <string_view>

#include "query/slots.h"

namespace duckdb {
class ExtensionLoader;
}

namespace kalam::query {

// The names our scalar functions are registered under; user SQL can't call them by name.
inline constexpr std::string_view kPgFunctionPrefix = "kalam_pg_";

enum class PgFunctionKind {
  kOurs,     // a scalar function of ours, kPgFunctionPrefix + name, reading the catalog model
  kEngine,   // the engine's function engine_name, unqualified
  kSession,  // a value of the statement's context: current_schema(), version(), ...
};

struct PgFunction {
  std::string_view name;
  PgFunctionKind kind;
  std::string_view engine_name = {};  // kEngine
};

// The function a call of name (lower case, qualified with pg_catalog or not) means;
// null when it is none of the allow-list.
const PgFunction* FindPgFunction(std::string_view name);

// Registers the kOurs functions; they read the caller and catalog of the connection they
// run on through the registry.
void RegisterPgFunctions(duckdb::ExtensionLoader& loader, duckdb::shared_ptr<ScanRegistry> registry);

}  // namespace kalam::query
