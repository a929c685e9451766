#include "cold/segment_pruning.h"

#include <optional>
#include <utility>
#include <vector>

#include "duckdb/parser/expression/between_expression.hpp"
#include "duckdb/parser/expression/cast_expression.hpp"
#include "duckdb/parser/expression/columnref_expression.hpp"
#include "duckdb/parser/expression/comparison_expression.hpp"
#include "duckdb/parser/expression/conjunction_expression.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "query/cells.h"
#include "cold/merged_scan.h"

namespace kalam::cold {
namespace {

using duckdb::ExpressionClass;
using duckdb::ExpressionType;
using duckdb::LogicalTypeId;
using duckdb::ParsedExpression;
using duckdb::Value;
using query::EngineType;

constexpr char kSeqColumn[] = "_seq";

// column op value.
struct Bound {
  const catalog::ColumnDef* column = nullptr;  // null: _seq
  ExpressionType op;
  Value value;
};

// Types whose order in the statistics (min/max cast to text and back) is the order of
// comparisons in queries.
bool Orderable(const duckdb::LogicalType& type) {
  switch (type.id()) {
    case LogicalTypeId::TINYINT: case LogicalTypeId::SMALLINT: case LogicalTypeId::INTEGER:
    case LogicalTypeId::BIGINT: case LogicalTypeId::UTINYINT: case LogicalTypeId::USMALLINT:
    case LogicalTypeId::UINTEGER: case LogicalTypeId::UBIGINT: case LogicalTypeId::HUGEINT:
    case LogicalTypeId::VARCHAR: case LogicalTypeId::DATE: case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ: case LogicalTypeId::TIMESTAMP_MS:
    case LogicalTypeId::TIMESTAMP_SEC: case LogicalTypeId::TIMESTAMP_NS:
      return true;
    default:
      return false;
  }
}

ExpressionType Flip(ExpressionType op) {
  switch (op) {
    case ExpressionType::COMPARE_LESSTHAN: return ExpressionType::COMPARE_GREATERTHAN;
    case ExpressionType::COMPARE_GREATERTHAN: return ExpressionType::COMPARE_LESSTHAN;
    case ExpressionType::COMPARE_LESSTHANOREQUALTO: return ExpressionType::COMPARE_GREATERTHANOREQUALTO;
    case ExpressionType::COMPARE_GREATERTHANOREQUALTO: return ExpressionType::COMPARE_LESSTHANOREQUALTO;
    default: return op;
  }
}

class Collector {
 public:
  Collector(const catalog::TableDef& table, const std::string& alias) : table_(table), alias_(alias) {}

  void Walk(const ParsedExpression& e) {
    if (e.type == ExpressionType::CONJUNCTION_AND) {
      for (const auto& child : e.Cast<duckdb::ConjunctionExpression>().children) Walk(*child);
      return;
    }
    if (e.GetExpressionClass() == ExpressionClass::COMPARISON) {
      const auto& cmp = e.Cast<duckdb::ComparisonExpression>();
      switch (e.type) {
        case ExpressionType::COMPARE_EQUAL: case ExpressionType::COMPARE_LESSTHAN:
        case ExpressionType::COMPARE_GREATERTHAN: case ExpressionType::COMPARE_LESSTHANOREQUALTO:
        case ExpressionType::COMPARE_GREATERTHANOREQUALTO:
          Add(*cmp.left, e.type, *cmp.right);
          Add(*cmp.right, Flip(e.type), *cmp.left);
          break;
        default:
          break;
      }
      return;
    }
    if (e.GetExpressionClass() == ExpressionClass::BETWEEN) {
      const auto& between = e.Cast<duckdb::BetweenExpression>();
      Add(*between.input, ExpressionType::COMPARE_GREATERTHANOREQUALTO, *between.lower);
      Add(*between.input, ExpressionType::COMPARE_LESSTHANOREQUALTO, *between.upper);
    }
  }

  std::vector<Bound> bounds;

 private:
  void Add(const ParsedExpression& column, ExpressionType op, const ParsedExpression& constant) {
    if (column.GetExpressionClass() != ExpressionClass::COLUMN_REF) return;
    const auto& ref = column.Cast<duckdb::ColumnRefExpression>();
    const auto& parts = ref.column_names;
    if (parts.size() == 2 && !duckdb::StringUtil::CIEquals(parts[0], alias_)) return;
    if (parts.size() != 1 && parts.size() != 2) return;
    const std::string& name = parts.back();
    Bound bound;
    bound.op = op;
    duckdb::LogicalType type = duckdb::LogicalType::BIGINT;
    if (!duckdb::StringUtil::CIEquals(name, kSeqColumn)) {
      for (const auto& c : table_.current().columns) {
        if (duckdb::StringUtil::CIEquals(c.name, name)) bound.column = &c;
      }
      if (bound.column == nullptr) return;
      type = EngineType(*bound.column);
    }
    if (!Orderable(type)) return;
    auto value = ConstantOf(constant);
    if (!value || value->IsNull()) return;
    // The query compares in the wider of the two types: a bound that does not survive the
    // cast to the column's type and back (5.5 against an integer column, a timestamp
    // against a date) would prune rows that match. A text literal is read as the column's
    // type, as the query reads it — but for TIMESTAMPTZ that depends on the session's zone.
    const bool text = value->type().id() == LogicalTypeId::VARCHAR;
    if (text && type.id() == LogicalTypeId::TIMESTAMP_TZ) return;
    try {
      bound.value = value->DefaultCastAs(type);
      if (!text && !(bound.value.DefaultCastAs(value->type()) == *value)) return;
    } catch (const std::exception&) {
      return;
    }
    bounds.push_back(std::move(bound));
  }

  // A literal, possibly cast (TIMESTAMP '...').
  static std::optional<Value> ConstantOf(const ParsedExpression& e) {
    if (e.GetExpressionClass() == ExpressionClass::CONSTANT) {
      return e.Cast<duckdb::ConstantExpression>().value;
    }
    if (e.GetExpressionClass() == ExpressionClass::CAST) {
      const auto& cast = e.Cast<duckdb::CastExpression>();
      if (cast.try_cast) return std::nullopt;
      auto inner = ConstantOf(*cast.child);
      if (!inner) return std::nullopt;
      try {
        return inner->DefaultCastAs(cast.cast_type);
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  const catalog::TableDef& table_;
  const std::string& alias_;
};

// Whether some value in [min, max] can satisfy `value op bound`.
bool MayMatch(const Value& min, const Value& max, ExpressionType op, const Value& bound) {
  switch (op) {
    case ExpressionType::COMPARE_EQUAL: return !(bound < min) && !(max < bound);
    case ExpressionType::COMPARE_LESSTHAN: return min < bound;
    case ExpressionType::COMPARE_LESSTHANOREQUALTO: return !(bound < min);
    case ExpressionType::COMPARE_GREATERTHAN: return bound < max;
    case ExpressionType::COMPARE_GREATERTHANOREQUALTO: return !(max < bound);
    default: return true;
  }
}

}  // namespace

std::function<bool(const Segment&)> SegmentFilter(const catalog::TableDef& table,
                                                       const ParsedExpression* where,
                                                       const std::string& alias) {
  if (where == nullptr) return {};
  Collector collector(table, alias);
  collector.Walk(*where);
  if (collector.bounds.empty()) return {};
  return [bounds = std::move(collector.bounds)](const Segment& segment) {
    for (const Bound& b : bounds) {
      if (b.column == nullptr) {
        if (!MayMatch(Value::BIGINT(segment.min_seq), Value::BIGINT(segment.max_seq), b.op, b.value)) {
          return false;
        }
        continue;
      }
      const auto range = SegmentRange(segment, *b.column);
      if (range && !MayMatch(range->first, range->second, b.op, b.value)) return false;
    }
    return true;
  };
}

}  // namespace kalam::cold
