// Manifest pruning: which cold segments of a scope a query's filters may match, judged
// from the manifest's statistics before any file is opened (DuckDB types in the interface).
#pragma once

#include <duckdb.hpp>
#include <functional>
#include <string>

#include "catalog/catalog.h"
#include "cold/cold_store.h"

namespace kalam::cold {

// A test of segments against the conjuncts of where that bound one column of the table
// (named bare or as alias.column) by a constant: =, <, <=, >, >=, BETWEEN, on columns with
// statistics and on _seq. It says false only for segments no row of which can match;
// empty when where has nothing it can use.
std::function<bool(const Segment&)> SegmentFilter(const catalog::TableDef& table,
                                                       const duckdb::ParsedExpression* where,
                                                       const std::string& alias);

}  // namespace kalam::cold
