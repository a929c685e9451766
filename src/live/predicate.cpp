#include "live/predicate.h"

#include <duckdb.hpp>

#include "duckdb/parser/expression/list.hpp"
#include "query/cells.h"

namespace kalam::live {
namespace {

using duckdb::ExpressionClass;
using duckdb::ExpressionType;
using duckdb::ParsedExpression;
using duckdb::Value;
using query::CellFromValue;
using query::CellToValue;

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
        // order_bys is always present; only a non-empty one is an ORDER BY inside the call.
        if (f.children.size() != 2 || f.distinct || f.filter ||
            (f.order_bys && !f.order_bys->orders.empty())) {
          break;
        }
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

}  // namespace

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

Result<std::unique_ptr<RowPredicate>> CompilePredicate(const duckdb::ParsedExpression& where,
                                                       const catalog::TableDef& table,
                                                       const std::string& qualifier) {
  Compiler compiler(table, qualifier);
  auto root = compiler.Compile(where);
  if (!root.ok()) return root.status();
  return std::unique_ptr<RowPredicate>(std::make_unique<PredicateImpl>(std::move(root).value()));
}

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

}  // namespace kalam::live
