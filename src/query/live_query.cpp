#include "query/live_query.h"

#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include <duckdb.hpp>

#include "common/json_text.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/keyword_helper.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/query_node/select_node.hpp"
#include "duckdb/parser/statement/select_statement.hpp"
#include "duckdb/parser/tableref/basetableref.hpp"
#include "query/cells.h"
#include "query/result_encoder.h"
#include "query/table_scan.h"
#include "cold/cold_store.h"
#include "common/clock.h"
#include "store/committer.h"
#include "store/kv_store.h"

namespace kalam::query {
namespace {

using duckdb::ExpressionClass;
using duckdb::ExpressionType;
using duckdb::ParsedExpression;
using duckdb::Value;

Status Unsupported(std::string what) { return {Code::kUnsupported, std::move(what)}; }
std::string Lower(const std::string& s) { return duckdb::StringUtil::Lower(s); }

struct Row {
  const std::vector<store::Cell>& cells;
  int64_t seq;
};

class Node {
 public:
  virtual ~Node() = default;
  virtual Value Eval(const Row& row) const = 0;
};
using NodePtr = std::unique_ptr<Node>;

bool Truthy(const Value& v) { return !v.IsNull() && v.GetValue<bool>(); }

class ColumnNode final : public Node {
 public:
  ColumnNode(const catalog::ColumnDef* column) : column_(column) {}  // null: _seq
  Value Eval(const Row& row) const override {
    if (column_ == nullptr) return Value::BIGINT(row.seq);
    return CellToValue(*column_, row.cells[index_]);
  }
  size_t index_ = 0;

 private:
  const catalog::ColumnDef* column_;
};

class ConstantNode final : public Node {
 public:
  explicit ConstantNode(Value v) : value_(std::move(v)) {}
  Value Eval(const Row&) const override { return value_; }

 private:
  Value value_;
};

class CompareNode final : public Node {
 public:
  CompareNode(ExpressionType op, NodePtr l, NodePtr r) : op_(op), l_(std::move(l)), r_(std::move(r)) {}
  Value Eval(const Row& row) const override {
    const Value a = l_->Eval(row), b = r_->Eval(row);
    if (a.IsNull() || b.IsNull()) return Value(duckdb::LogicalType::BOOLEAN);
    try {
      switch (op_) {
        case ExpressionType::COMPARE_EQUAL: return Value::BOOLEAN(a == b);
        case ExpressionType::COMPARE_NOTEQUAL: return Value::BOOLEAN(!(a == b));
        case ExpressionType::COMPARE_LESSTHAN: return Value::BOOLEAN(a < b);
        case ExpressionType::COMPARE_GREATERTHAN: return Value::BOOLEAN(a > b);
        case ExpressionType::COMPARE_LESSTHANOREQUALTO: return Value::BOOLEAN(a <= b);
        case ExpressionType::COMPARE_GREATERTHANOREQUALTO: return Value::BOOLEAN(a >= b);
        default: break;
      }
    } catch (const std::exception&) {
    }
    return Value(duckdb::LogicalType::BOOLEAN);  // not comparable: unknown
  }

 private:
  ExpressionType op_;
  NodePtr l_, r_;
};

class LogicNode final : public Node {
 public:
  LogicNode(ExpressionType op, std::vector<NodePtr> children) : op_(op), children_(std::move(children)) {}
  Value Eval(const Row& row) const override {
    if (op_ == ExpressionType::OPERATOR_NOT) {
      const Value v = children_[0]->Eval(row);
      return v.IsNull() ? v : Value::BOOLEAN(!v.GetValue<bool>());
    }
    const bool is_and = op_ == ExpressionType::CONJUNCTION_AND;
    bool unknown = false;
    for (const auto& child : children_) {
      const Value v = child->Eval(row);
      if (v.IsNull()) {
        unknown = true;
      } else if (v.GetValue<bool>() != is_and) {
        return Value::BOOLEAN(!is_and);  // AND meets false, OR meets true
      }
    }
    return unknown ? Value(duckdb::LogicalType::BOOLEAN) : Value::BOOLEAN(is_and);
  }

 private:
  ExpressionType op_;
  std::vector<NodePtr> children_;
};

class NullTestNode final : public Node {
 public:
  NullTestNode(bool want_null, NodePtr child) : want_null_(want_null), child_(std::move(child)) {}
  Value Eval(const Row& row) const override { return Value::BOOLEAN(child_->Eval(row).IsNull() == want_null_); }

 private:
  bool want_null_;
  NodePtr child_;
};

class InNode final : public Node {
 public:
  InNode(bool negate, NodePtr input, std::vector<NodePtr> list)
      : negate_(negate), input_(std::move(input)), list_(std::move(list)) {}
  Value Eval(const Row& row) const override {
    const Value v = input_->Eval(row);
    if (v.IsNull()) return Value(duckdb::LogicalType::BOOLEAN);
    bool unknown = false;
    for (const auto& item : list_) {
      const Value c = item->Eval(row);
      if (c.IsNull()) {
        unknown = true;
        continue;
      }
      try {
        if (v == c) return Value::BOOLEAN(!negate_);
      } catch (const std::exception&) {
      }
    }
    return unknown ? Value(duckdb::LogicalType::BOOLEAN) : Value::BOOLEAN(negate_);
  }

 private:
  bool negate_;
  NodePtr input_;
  std::vector<NodePtr> list_;
};

// SQL LIKE: % any run, _ any one character (bytes).
bool Like(std::string_view s, std::string_view p, bool fold) {
  size_t si = 0, pi = 0, star_p = std::string::npos, star_s = 0;
  auto eq = [&](char a, char b) {
    return fold ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)) : a == b;
  };
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '_' || (p[pi] != '%' && eq(p[pi], s[si])))) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '%') {
      star_p = pi++;
      star_s = si;
    } else if (star_p != std::string::npos) {
      pi = star_p + 1;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

class LikeNode final : public Node {
 public:
  LikeNode(bool negate, bool fold, NodePtr input, NodePtr pattern)
      : negate_(negate), fold_(fold), input_(std::move(input)), pattern_(std::move(pattern)) {}
  Value Eval(const Row& row) const override {
    const Value s = input_->Eval(row), p = pattern_->Eval(row);
    if (s.IsNull() || p.IsNull()) return Value(duckdb::LogicalType::BOOLEAN);
    return Value::BOOLEAN(Like(s.ToString(), p.ToString(), fold_) != negate_);
  }

 private:
  bool negate_, fold_;
  NodePtr input_, pattern_;
};

class ArithNode final : public Node {
 public:
  ArithNode(char op, NodePtr l, NodePtr r) : op_(op), l_(std::move(l)), r_(std::move(r)) {}
  Value Eval(const Row& row) const override {
    const Value a = l_->Eval(row), b = r_->Eval(row);
    if (a.IsNull() || b.IsNull()) return Value(duckdb::LogicalType::DOUBLE);
    try {
      if (a.type().IsIntegral() && b.type().IsIntegral()) {
        const int64_t x = a.GetValue<int64_t>(), y = b.GetValue<int64_t>();
        switch (op_) {
          case '+': return Value::BIGINT(x + y);
          case '-': return Value::BIGINT(x - y);
          case '*': return Value::BIGINT(x * y);
          case '/': return y == 0 ? Value(duckdb::LogicalType::BIGINT) : Value::BIGINT(x / y);
          case '%': return y == 0 ? Value(duckdb::LogicalType::BIGINT) : Value::BIGINT(x % y);
        }
      }
      const double x = a.GetValue<double>(), y = b.GetValue<double>();
      switch (op_) {
        case '+': return Value::DOUBLE(x + y);
        case '-': return Value::DOUBLE(x - y);
        case '*': return Value::DOUBLE(x * y);
        case '/': return y == 0 ? Value(duckdb::LogicalType::DOUBLE) : Value::DOUBLE(x / y);
        case '%': return y == 0 ? Value(duckdb::LogicalType::DOUBLE) : Value::DOUBLE(std::fmod(x, y));
      }
    } catch (const std::exception&) {
    }
    return Value(duckdb::LogicalType::DOUBLE);
  }

 private:
  char op_;
  NodePtr l_, r_;
};

class CastNode final : public Node {
 public:
  CastNode(duckdb::LogicalType type, NodePtr child) : type_(std::move(type)), child_(std::move(child)) {}
  Value Eval(const Row& row) const override {
    Value v = child_->Eval(row);
    Value out;
    std::string error;
    if (v.IsNull() || !v.DefaultTryCastAs(type_, out, &error)) return Value(type_);
    return out;
  }

 private:
  duckdb::LogicalType type_;
  NodePtr child_;
};

class PredicateImpl final : public RowPredicate {
 public:
  explicit PredicateImpl(NodePtr root) : root_(std::move(root)) {}
  bool Matches(const std::vector<store::Cell>& cells, int64_t seq) const override {
    return Truthy(root_->Eval(Row{cells, seq}));
  }

 private:
  NodePtr root_;
};

// The column a reference names: its index, columns.size() for _seq, -1 when unknown.
int ResolveColumn(const duckdb::ColumnRefExpression& ref, const catalog::TableDef& table,
                  const std::string& qualifier) {
  const auto& parts = ref.column_names;
  if (parts.empty() || parts.size() > 2) return -1;
  if (parts.size() == 2 && Lower(parts[0]) != qualifier) return -1;
  const std::string name = Lower(parts.back());
  const auto& columns = table.current().columns;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return name == "_seq" ? static_cast<int>(columns.size()) : -1;
}

class Compiler {
 public:
  Compiler(const catalog::TableDef& table, std::string qualifier)
      : table_(table), qualifier_(std::move(qualifier)) {}

  Result<NodePtr> Compile(const ParsedExpression& e) {
    switch (e.GetExpressionClass()) {
      case ExpressionClass::CONSTANT:
        return NodePtr(std::make_unique<ConstantNode>(e.Cast<duckdb::ConstantExpression>().value));
      case ExpressionClass::COLUMN_REF: {
        const int index = ResolveColumn(e.Cast<duckdb::ColumnRefExpression>(), table_, qualifier_);
        if (index < 0) return Status(Code::kInvalidSql, "Unknown column " + e.ToString());
        const auto& columns = table_.current().columns;
        auto node = std::make_unique<ColumnNode>(
            index < static_cast<int>(columns.size()) ? &columns[index] : nullptr);
        node->index_ = static_cast<size_t>(index);
        return NodePtr(std::move(node));
      }
      case ExpressionClass::COMPARISON: {
        const auto& c = e.Cast<duckdb::ComparisonExpression>();
        auto l = Compile(*c.left);
        if (!l.ok()) return l.status();
        auto r = Compile(*c.right);
        if (!r.ok()) return r.status();
        switch (e.type) {
          case ExpressionType::COMPARE_EQUAL:
          case ExpressionType::COMPARE_NOTEQUAL:
          case ExpressionType::COMPARE_LESSTHAN:
          case ExpressionType::COMPARE_GREATERTHAN:
          case ExpressionType::COMPARE_LESSTHANOREQUALTO:
          case ExpressionType::COMPARE_GREATERTHANOREQUALTO:
            return NodePtr(std::make_unique<CompareNode>(e.type, std::move(*l), std::move(*r)));
          default:
            return Unsupported("Comparison " + e.ToString() + " is not supported in subscriptions");
        }
      }
      case ExpressionClass::CONJUNCTION: {
        std::vector<NodePtr> children;
        for (const auto& child : e.Cast<duckdb::ConjunctionExpression>().children) {
          auto n = Compile(*child);
          if (!n.ok()) return n.status();
          children.push_back(std::move(*n));
        }
        return NodePtr(std::make_unique<LogicNode>(e.type, std::move(children)));
      }
      case ExpressionClass::OPERATOR: {
        const auto& op = e.Cast<duckdb::OperatorExpression>();
        std::vector<NodePtr> children;
        for (const auto& child : op.children) {
          auto n = Compile(*child);
          if (!n.ok()) return n.status();
          children.push_back(std::move(*n));
        }
        switch (e.type) {
          case ExpressionType::OPERATOR_NOT:
            return NodePtr(std::make_unique<LogicNode>(e.type, std::move(children)));
          case ExpressionType::OPERATOR_IS_NULL:
          case ExpressionType::OPERATOR_IS_NOT_NULL:
            return NodePtr(std::make_unique<NullTestNode>(e.type == ExpressionType::OPERATOR_IS_NULL,
                                                          std::move(children[0])));
          case ExpressionType::COMPARE_IN:
          case ExpressionType::COMPARE_NOT_IN: {
            NodePtr input = std::move(children[0]);
            children.erase(children.begin());
            return NodePtr(std::make_unique<InNode>(e.type == ExpressionType::COMPARE_NOT_IN,
                                                    std::move(input), std::move(children)));
          }
          default:
            return Unsupported("Operator " + e.ToString() + " is not supported in subscriptions");
        }
      }
      case ExpressionClass::BETWEEN: {
        const auto& b = e.Cast<duckdb::BetweenExpression>();
        auto input = Compile(*b.input), input2 = Compile(*b.input), lower = Compile(*b.lower),
             upper = Compile(*b.upper);
        if (!input.ok()) return input.status();
        if (!lower.ok()) return lower.status();
        if (!upper.ok()) return upper.status();
        std::vector<NodePtr> both;
        both.push_back(std::make_unique<CompareNode>(ExpressionType::COMPARE_GREATERTHANOREQUALTO,
                                                     std::move(*input), std::move(*lower)));
        both.push_back(std::make_unique<CompareNode>(ExpressionType::COMPARE_LESSTHANOREQUALTO,
                                                     std::move(*input2), std::move(*upper)));
        return NodePtr(std::make_unique<LogicNode>(ExpressionType::CONJUNCTION_AND, std::move(both)));
      }
      case ExpressionClass::CAST: {
        const auto& c = e.Cast<duckdb::CastExpression>();
        auto child = Compile(*c.child);
        if (!child.ok()) return child.status();
        return NodePtr(std::make_unique<CastNode>(c.cast_type, std::move(*child)));
      }
      case ExpressionClass::FUNCTION: {
        const auto& f = e.Cast<duckdb::FunctionExpression>();
        const std::string name = Lower(f.function_name);
        if (f.children.size() != 2 || f.distinct || f.filter || f.order_bys) break;
        auto l = Compile(*f.children[0]);
        if (!l.ok()) return l.status();
        auto r = Compile(*f.children[1]);
        if (!r.ok()) return r.status();
        if (name == "~~" || name == "!~~" || name == "~~*" || name == "!~~*") {
          return NodePtr(std::make_unique<LikeNode>(name[0] == '!', name.back() == '*',
                                                    std::move(*l), std::move(*r)));
        }
        if (name.size() == 1 && std::string_view("+-*/%").find(name[0]) != std::string_view::npos) {
          return NodePtr(std::make_unique<ArithNode>(name[0], std::move(*l), std::move(*r)));
        }
        break;
      }
      default:
        break;
    }
    return Unsupported("Expression " + e.ToString() + " is not supported in subscriptions");
  }

 private:
  const catalog::TableDef& table_;
  std::string qualifier_;
};

// column = constant at the top of a WHERE, or among the terms of a top-level AND.
std::optional<std::pair<int, store::Cell>> FindEquality(const ParsedExpression& e,
                                                        const catalog::TableDef& table,
                                                        const std::string& qualifier) {
  if (e.type == ExpressionType::CONJUNCTION_AND) {
    for (const auto& child : e.Cast<duckdb::ConjunctionExpression>().children) {
      if (auto found = FindEquality(*child, table, qualifier)) return found;
    }
    return std::nullopt;
  }
  if (e.type != ExpressionType::COMPARE_EQUAL) return std::nullopt;
  const auto& c = e.Cast<duckdb::ComparisonExpression>();
  const ParsedExpression* column = c.left.get();
  const ParsedExpression* constant = c.right.get();
  if (column->GetExpressionClass() == ExpressionClass::CONSTANT) std::swap(column, constant);
  if (column->GetExpressionClass() != ExpressionClass::COLUMN_REF ||
      constant->GetExpressionClass() != ExpressionClass::CONSTANT) {
    return std::nullopt;
  }
  const int index = ResolveColumn(column->Cast<duckdb::ColumnRefExpression>(), table, qualifier);
  const auto& columns = table.current().columns;
  if (index < 0 || index >= static_cast<int>(columns.size())) return std::nullopt;
  auto cell = CellFromValue(columns[index], constant->Cast<duckdb::ConstantExpression>().value);
  if (!cell.ok() || store::IsNull(*cell)) return std::nullopt;
  return std::make_pair(index, std::move(cell).value());
}

std::string Quoted(const std::string& name) { return duckdb::KeywordHelper::WriteQuoted(name, '"'); }

}  // namespace

namespace {

// One shared copy of a table's definition per (table, schema version) for all the
// subscriptions on it: holding the catalog snapshot instead would keep every snapshot a
// subscription saw alive, one per catalog change.
std::shared_ptr<const catalog::TableDef> SharedTableDef(const catalog::TableDef& table) {
  static std::mutex mutex;
  static std::map<std::pair<uint64_t, uint32_t>, std::weak_ptr<const catalog::TableDef>> defs;
  std::lock_guard lock(mutex);
  auto& slot = defs[{table.table_num, table.current().version}];
  if (auto def = slot.lock();
      def && def->ttl_seconds == table.ttl_seconds && def->access_level == table.access_level &&
      def->ns == table.ns && def->name == table.name) {
    return def;
  }
  auto def = std::make_shared<const catalog::TableDef>(table);
  slot = def;
  if (defs.size() > 1024) std::erase_if(defs, [](const auto& d) { return d.second.expired(); });
  return def;
}

}  // namespace

std::string SchemaJson(const SubscriptionQuery& q) {
  const auto& columns = q.table->current().columns;
  const int seq_index = static_cast<int>(columns.size());
  std::string json = "[";
  for (size_t i = 0; i < q.projection.size(); ++i) {
    const int index = q.projection[i];
    if (i > 0) json += ",";
    json += "{\"name\":" + JsonString(q.names[i]) + ",\"data_type\":" +
            JsonString(index == seq_index ? "BigInt" : SpecTypeName(EngineType(columns[index]))) +
            ",\"index\":" + std::to_string(i) + "}";
  }
  return json + "]";
}

std::string SelectSql(const SubscriptionQuery& q) {
  const auto& columns = q.table->current().columns;
  const int seq_index = static_cast<int>(columns.size());
  std::string sql = "SELECT ";
  for (size_t i = 0; i < q.projection.size(); ++i) {
    const int index = q.projection[i];
    if (i > 0) sql += ", ";
    sql += Quoted(index == seq_index ? "_seq" : columns[index].name) + " AS " + Quoted(q.names[i]);
  }
  return sql + " FROM " + Quoted(q.table->ns) + "." + Quoted(q.table->name) + " AS " + Quoted(q.qualifier);
}

Result<SubscriptionQuery> ParseSubscription(std::string_view sql, const catalog::CatalogState& state,
                                            const auth::Caller& caller,
                                            const std::string& default_namespace) {
  duckdb::unique_ptr<duckdb::SQLStatement> statement;
  try {
    duckdb::Parser parser;
    parser.ParseQuery(std::string(sql));
    if (parser.statements.size() != 1) return Status(Code::kInvalidSql, "Subscribe to one query");
    statement = std::move(parser.statements[0]);
  } catch (const std::exception& e) {
    return Status(Code::kInvalidSql, duckdb::ErrorData(e).RawMessage());
  }
  if (statement->type != duckdb::StatementType::SELECT_STATEMENT) {
    return Status(Code::kInvalidSql, "A subscription is a SELECT");
  }
  const auto& node = *statement->Cast<duckdb::SelectStatement>().node;
  if (node.type != duckdb::QueryNodeType::SELECT_NODE) {
    return Unsupported("Subscriptions take one SELECT, without UNION or WITH");
  }
  const auto& select = node.Cast<duckdb::SelectNode>();
  if (!node.modifiers.empty()) {
    return Unsupported("Subscriptions don't take ORDER BY, LIMIT or DISTINCT: use last_rows");
  }
  if (!node.cte_map.map.empty() || !select.groups.group_expressions.empty() || select.having ||
      select.qualify || select.sample ||
      select.aggregate_handling != duckdb::AggregateHandling::STANDARD_HANDLING) {
    return Unsupported("Subscriptions don't take WITH, GROUP BY, HAVING or QUALIFY");
  }
  if (!select.from_table || select.from_table->type != duckdb::TableReferenceType::BASE_TABLE) {
    return Unsupported("A subscription reads one table: joins and subqueries are not supported");
  }
  const auto& base = select.from_table->Cast<duckdb::BaseTableRef>();
  const std::string schema = Lower(base.schema_name);
  const std::string name = Lower(base.table_name);
  if (schema == "system" || schema == "information_schema") {
    return Unsupported("System tables can't be subscribed to");
  }
  const std::string ns = schema.empty() ? default_namespace : schema;
  const catalog::TableDef* table = state.FindTable(ns, name);
  if (table == nullptr) return Status(Code::kNotFound, "Table '" + ns + "." + name + "' does not exist");
  KALAM_RETURN_IF_ERROR(CheckRead(*table, caller));
  const std::string qualifier = Lower(base.alias.empty() ? base.table_name : base.alias);

  SubscriptionQuery q;
  q.table = SharedTableDef(*table);
  q.scope = ScopeFor(*table, caller);
  const auto& columns = table->current().columns;
  const int seq_index = static_cast<int>(columns.size());
  for (const auto& expr : select.select_list) {
    if (expr->GetExpressionClass() == ExpressionClass::STAR) {
      const auto& star = expr->Cast<duckdb::StarExpression>();
      if (star.columns || star.expr || !star.exclude_list.empty() || !star.replace_list.empty() ||
          !star.rename_list.empty()) {
        return Unsupported("Only a plain * is supported in subscriptions");
      }
      for (int i = 0; i <= seq_index; ++i) {
        q.projection.push_back(i);
        q.names.push_back(i < seq_index ? columns[i].name : "_seq");
      }
    } else if (expr->GetExpressionClass() == ExpressionClass::COLUMN_REF) {
      const int index = ResolveColumn(expr->Cast<duckdb::ColumnRefExpression>(), *table, qualifier);
      if (index < 0) return Status(Code::kInvalidSql, "Unknown column " + expr->ToString());
      q.projection.push_back(index);
      q.names.push_back(!expr->alias.empty() ? expr->alias : index < seq_index ? columns[index].name : "_seq");
    } else {
      return Unsupported("Subscriptions select columns: " + expr->ToString() + " is not supported");
    }
  }
  if (std::find(q.projection.begin(), q.projection.end(), seq_index) == q.projection.end()) {
    q.projection.push_back(seq_index);
    q.names.push_back("_seq");
  }
  q.qualifier = qualifier;
  if (select.where_clause) {
    Compiler compiler(*table, qualifier);
    auto root = compiler.Compile(*select.where_clause);
    if (!root.ok()) return root.status();
    q.predicate = std::make_unique<PredicateImpl>(std::move(root).value());
    q.where_sql = select.where_clause->ToString();
    q.equality = FindEquality(*select.where_clause, *table, qualifier);
  }
  return q;
}

struct SnapshotCache::Entry {
  uint64_t table_num = 0;
  uint32_t schema_version = 0;
  int64_t as_of = 0;                              // the rows are those with _seq <= as_of
  bool too_large = false;                         // no rows kept: read the store directly
  std::vector<int64_t> seqs;                      // in _seq order
  std::vector<std::vector<store::Cell>> cells;    // current column order

  // The rows (indices, in _seq order) whose column holds the value of key.
  const std::vector<uint32_t>& Lookup(int column, ColumnType type, const std::string& key) {
    std::lock_guard lock(index_mutex);
    auto [it, fresh] = index.try_emplace(column);
    if (fresh) {
      for (uint32_t i = 0; i < cells.size(); ++i) {
        it->second[EqualityKey(column, type, cells[i][column])].push_back(i);
      }
    }
    static const std::vector<uint32_t> kNone;
    auto found = it->second.find(key);
    return found == it->second.end() ? kNone : found->second;
  }

 private:
  std::mutex index_mutex;
  std::map<int, std::unordered_map<std::string, std::vector<uint32_t>>> index;
};

struct SnapshotCache::State {
  std::function<int64_t(const std::string&)> last_change;
  size_t max_rows;
  std::mutex mutex;
  // By table id and scope; a future while the first reader builds it.
  std::map<std::string, std::shared_future<std::shared_ptr<Entry>>> entries;
  // (key, entry, its charge), oldest first; an entry is charged max(1, rows).
  std::deque<std::tuple<std::string, const Entry*, size_t>> order;
  static constexpr size_t kMaxEntries = 4096;
  size_t rows = 0;

  bool Valid(const Entry& e, const catalog::TableDef& table, int64_t max_seq) const {
    return e.table_num == table.table_num && e.schema_version == table.current().version &&
           last_change(table.id()) <= std::min(e.as_of, max_seq);
  }
};

SnapshotCache::SnapshotCache(std::function<int64_t(const std::string& table_id)> last_change,
                             size_t max_rows)
    : state_(std::make_unique<State>()) {
  state_->last_change = std::move(last_change);
  state_->max_rows = max_rows;
}

SnapshotCache::~SnapshotCache() = default;

namespace {

// Every live row of a scope with _seq <= max_seq, in _seq order (marked too_large, without
// rows, past max_rows); null when the scope cannot be read.
std::shared_ptr<SnapshotCache::Entry> ReadEntry(const catalog::TableDef& table, const std::string& scope,
                                                store::KvStore& store, int64_t max_seq,
                                                size_t max_rows) {
  auto entry = std::make_shared<SnapshotCache::Entry>();
  entry->table_num = table.table_num;
  entry->schema_version = table.current().version;
  entry->as_of = max_seq;
  std::vector<std::pair<int64_t, std::vector<store::Cell>>> rows;
  auto cursor = store.NewCursor(store::Family::kHot, store::ScopePrefix(table.table_num, scope));
  for (; cursor->Valid(); cursor->Next()) {
    store::RowVersion header;
    if (!store::DecodeRowHeader(cursor->value(), header).ok()) return nullptr;
    if (header.deleted || header.seq > max_seq) continue;
    if (rows.size() >= max_rows) {
      entry->too_large = true;  // remembered, so the next subscribers skip this read
      return entry;
    }
    auto row = DecodeCurrentRow(table, cursor->value());
    if (!row.ok()) return nullptr;
    if (!row->has_value()) continue;
    rows.emplace_back((*row)->seq, std::move((*row)->cells));
  }
  if (!cursor->status().ok()) return nullptr;
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  entry->seqs.reserve(rows.size());
  entry->cells.reserve(rows.size());
  for (auto& [seq, cells] : rows) {
    entry->seqs.push_back(seq);
    entry->cells.push_back(std::move(cells));
  }
  return entry;
}

// The last_rows newest of rows (all when unset).
std::vector<std::string> Newest(std::vector<std::string> rows, std::optional<int64_t> last_rows) {
  if (!last_rows || rows.size() <= static_cast<size_t>(std::max<int64_t>(0, *last_rows))) return rows;
  const size_t start = rows.size() - static_cast<size_t>(std::max<int64_t>(0, *last_rows));
  return std::vector<std::string>(std::make_move_iterator(rows.begin() + start),
                                  std::make_move_iterator(rows.end()));
}

}  // namespace

std::shared_ptr<SnapshotCache::Entry> SnapshotCache::Find(const SubscriptionQuery& q,
                                                          store::KvStore& store, int64_t max_seq) {
  State& c = *state_;
  const catalog::TableDef& table = *q.table;
  const std::string key = table.id() + std::string(1, '\0') + q.scope;
  std::promise<std::shared_ptr<Entry>> building;
  {
    std::unique_lock lock(c.mutex);
    if (auto it = c.entries.find(key); it != c.entries.end()) {
      auto future = it->second;
      lock.unlock();
      auto entry = future.get();  // waits while another reader builds it
      if (entry && c.Valid(*entry, table, max_seq)) return entry;
      lock.lock();
      it = c.entries.find(key);
      if (it == c.entries.end() ||
          it->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        return nullptr;  // being built again by another reader
      }
      c.entries.erase(it);  // stale: built again below
    }
    c.entries.emplace(key, building.get_future().share());
  }
  std::shared_ptr<Entry> entry;
  try {
    entry = ReadEntry(table, q.scope, store, max_seq, c.max_rows / 2);
  } catch (const std::exception&) {
    entry = nullptr;
  }
  building.set_value(entry);
  std::lock_guard lock(c.mutex);
  if (!entry) {
    c.entries.erase(key);
    return nullptr;
  }
  const size_t charge = std::max<size_t>(1, entry->seqs.size());
  c.order.emplace_back(key, entry.get(), charge);
  c.rows += charge;
  while ((c.rows > c.max_rows || c.order.size() > State::kMaxEntries) && c.order.size() > 1) {
    auto [old, old_entry, n] = std::move(c.order.front());
    c.order.pop_front();
    c.rows -= n;
    // Only the entry this record stands for: a rebuilt key has a newer one.
    auto it = c.entries.find(old);
    if (it != c.entries.end() && old_entry != entry.get() &&
        it->second.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
        it->second.get().get() == old_entry) {
      c.entries.erase(it);
    }
  }
  return entry;
}

std::optional<std::vector<std::string>> SnapshotCache::Read(const SubscriptionQuery& q,
                                                           store::KvStore& store, int64_t max_seq,
                                                           int64_t min_seq,
                                                           std::optional<int64_t> last_rows) {
  auto entry = Find(q, store, max_seq);
  if (!entry || entry->too_large) return std::nullopt;
  std::vector<std::string> out;
  auto emit = [&](uint32_t i) {
    const int64_t seq = entry->seqs[i];
    if (seq <= min_seq || seq > max_seq) return;
    if (q.predicate && !q.predicate->Matches(entry->cells[i], seq)) return;
    std::string object;
    AppendRowObject(object, q, entry->cells[i], seq);
    out.push_back(std::move(object));
  };
  if (q.equality) {
    const auto& [column, value] = *q.equality;
    const ColumnType type = q.table->current().columns[column].type;
    for (uint32_t i : entry->Lookup(column, type, EqualityKey(column, type, value))) emit(i);
  } else {
    for (uint32_t i = 0; i < entry->seqs.size(); ++i) emit(i);
  }
  return Newest(std::move(out), last_rows);
}

Result<std::optional<std::vector<std::string>>> ReadSnapshot(
    const SubscriptionQuery& q, const catalog::CatalogState& state, store::KvStore& store,
    cold::ColdStore& cold, int64_t max_seq, std::optional<int64_t> from_seq,
    std::optional<int64_t> last_rows, SnapshotCache* cache) {
  using Out = std::optional<std::vector<std::string>>;
  const catalog::TableDef& table = *q.table;
  const bool stream = table.type == catalog::TableType::kStream;
  // Held while the hot rows are read: a first flush of the scope waits for it before its
  // rows leave the hot store.
  const auto manifest = stream ? nullptr : cold.Get(cold::ColdStore::ScopeDir(state, table, q.scope));
  if (manifest && !manifest->segments.empty()) return Out();
  int64_t min_seq = from_seq.value_or(-1);

  if (cache != nullptr && !stream) {
    if (auto rows = cache->Read(q, store, max_seq, min_seq, last_rows)) return Out(std::move(*rows));
  }

  if (stream && table.ttl_seconds) {
    min_seq = std::max(min_seq, store::SeqFloorAt(NowMicros() / 1000 - *table.ttl_seconds * 1000) - 1);
  }
  std::vector<std::pair<int64_t, std::string>> rows;
  auto cursor = store.NewCursor(stream ? store::Family::kStream : store::Family::kHot,
                                store::ScopePrefix(table.table_num, q.scope));
  for (; cursor->Valid(); cursor->Next()) {
    store::RowVersion header;
    KALAM_RETURN_IF_ERROR(store::DecodeRowHeader(cursor->value(), header));
    if (header.deleted || header.seq > max_seq || header.seq <= min_seq) continue;
    auto row = DecodeCurrentRow(table, cursor->value());
    if (!row.ok()) return row.status();
    if (!row->has_value()) continue;
    if (q.predicate && !q.predicate->Matches((*row)->cells, (*row)->seq)) continue;
    std::string object;
    AppendRowObject(object, q, (*row)->cells, (*row)->seq);
    rows.emplace_back((*row)->seq, std::move(object));
  }
  KALAM_RETURN_IF_ERROR(cursor->status());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (auto& row : rows) out.push_back(std::move(row.second));
  return Out(Newest(std::move(out), last_rows));
}

void AppendRowObject(std::string& out, const SubscriptionQuery& query,
                     const std::vector<store::Cell>& cells, int64_t seq) {
  const auto& columns = query.table->current().columns;
  out.push_back('{');
  for (size_t i = 0; i < query.projection.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(out, query.names[i]);
    out.push_back(':');
    const int index = query.projection[i];
    if (index == static_cast<int>(columns.size())) {
      out += std::to_string(seq);
    } else {
      AppendValue(out, CellToValue(columns[index], cells[index]));
    }
  }
  out.push_back('}');
}

std::string EqualityKey(int column, ColumnType type, const store::Cell& cell) {
  std::string key = std::to_string(column) + ":";
  if (store::IsNull(cell)) return key + "null";
  store::AppendKeyCell(key, type, cell);
  return key;
}

}  // namespace kalam::query
