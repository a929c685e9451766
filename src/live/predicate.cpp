#include "live/predicate.h"

#include <cmath>

#include <duckdb.hpp>

#include "common/text.h"
#include "duckdb/parser/expression/list.hpp"
#include "duckdb/parser/parser.hpp"
#include "query/cells.h"
#include "query/result_encoder.h"

// The engine's lower(), which ILIKE folds with. Declared here: its header
// (duckdb/function/scalar/string_common.hpp) includes one that the release does not ship.
namespace duckdb {
idx_t LowerLength(const char* input_data, idx_t input_length);
void LowerCase(const char* input_data, idx_t input_length, char* result_data);
}  // namespace duckdb

namespace kalam::live {
namespace {

using duckdb::ExpressionClass;
using duckdb::ExpressionType;
using duckdb::ParsedExpression;
using duckdb::Value;
using query::CellFromValue;
using query::CellToValue;

Status Unsupported(std::string what) { return {Code::kUnsupported, std::move(what)}; }

struct Row {
  const std::vector<store::Cell>& cells;
  int64_t seq;
};

// Where SQL raises an error for a row (integer overflow, a failed CAST): the row does not
// match. Every term is evaluated, so the verdict does not depend on the order of terms,
// which the engine is free to change.
struct EvalError {};

class Node {
 public:
  virtual ~Node() = default;
  virtual Value Eval(const Row& row) const = 0;
  // An integer or string literal: the engine types it after the other operand (1 is an
  // INTEGER beside an INTEGER column, '2024-01-01' a TIMESTAMP beside a TIMESTAMP).
  virtual bool IsLiteral() const { return false; }
  virtual bool IsNullConstant() const { return false; }
};
using NodePtr = std::unique_ptr<Node>;

// A string literal compared with a value of another type is cast to that type first.
Value Adapt(const Node& node, const Value& v, const Value& other) {
  if (!node.IsLiteral() || v.type().id() != duckdb::LogicalTypeId::VARCHAR ||
      other.type().id() == duckdb::LogicalTypeId::VARCHAR || other.IsNull()) {
    return v;
  }
  Value out;
  std::string error;
  if (!v.DefaultTryCastAs(other.type(), out, &error)) throw EvalError{};
  return out;
}

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
  bool IsLiteral() const override {
    return value_.type().IsIntegral() || value_.type().id() == duckdb::LogicalTypeId::VARCHAR;
  }
  bool IsNullConstant() const override { return value_.IsNull(); }

 private:
  Value value_;
};

class CompareNode final : public Node {
 public:
  CompareNode(ExpressionType op, NodePtr l, NodePtr r) : op_(op), l_(std::move(l)), r_(std::move(r)) {}
  Value Eval(const Row& row) const override {
    const Value x = l_->Eval(row), y = r_->Eval(row);
    if (x.IsNull() || y.IsNull()) return Value(duckdb::LogicalType::BOOLEAN);
    const Value a = Adapt(*l_, x, y), b = Adapt(*r_, y, x);
    // Values the engine cannot compare raise (and are refused when the snapshot binds).
    switch (op_) {
      case ExpressionType::COMPARE_EQUAL: return Value::BOOLEAN(a == b);
      case ExpressionType::COMPARE_NOTEQUAL: return Value::BOOLEAN(!(a == b));
      case ExpressionType::COMPARE_LESSTHAN: return Value::BOOLEAN(a < b);
      case ExpressionType::COMPARE_GREATERTHAN: return Value::BOOLEAN(a > b);
      case ExpressionType::COMPARE_LESSTHANOREQUALTO: return Value::BOOLEAN(a <= b);
      case ExpressionType::COMPARE_GREATERTHANOREQUALTO: return Value::BOOLEAN(a >= b);
      default: throw EvalError{};
    }
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
    bool unknown = false, decided = false;
    for (const auto& child : children_) {  // all of them: an error anywhere counts
      const Value v = child->Eval(row);
      if (v.IsNull()) {
        unknown = true;
      } else if (v.GetValue<bool>() != is_and) {
        decided = true;  // AND meets false, OR meets true
      }
    }
    if (decided) return Value::BOOLEAN(!is_and);
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
    bool unknown = v.IsNull(), found = false;
    for (const auto& item : list_) {  // all of them: an error anywhere counts
      const Value c = item->Eval(row);
      if (c.IsNull() || v.IsNull()) {
        unknown = true;
      } else if (Adapt(*input_, v, c) == Adapt(*item, c, v)) {
        found = true;
      }
    }
    if (found) return Value::BOOLEAN(!negate_);
    return unknown ? Value(duckdb::LogicalType::BOOLEAN) : Value::BOOLEAN(negate_);
  }

 private:
  bool negate_;
  NodePtr input_;
  std::vector<NodePtr> list_;
};

// The end of the UTF-8 character that starts at i (text is valid UTF-8).
size_t NextChar(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  return i;
}

// SQL LIKE without an escape character: % any run, _ any one character (not byte);
// every other byte, backslash included, stands for itself.
bool Like(std::string_view s, std::string_view p) {
  size_t si = 0, pi = 0, star_p = std::string::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '_') {
      si = NextChar(s, si);
      ++pi;
    } else if (pi < p.size() && p[pi] != '%' && p[pi] == s[si]) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '%') {
      star_p = pi++;
      star_s = si;
    } else if (star_p != std::string::npos) {
      pi = star_p + 1;
      si = star_s = NextChar(s, star_s);
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

// ILIKE folds both sides as the engine's lower() does (Unicode, not only ASCII).
std::string Fold(const std::string& s) {
  std::string out(duckdb::LowerLength(s.data(), s.size()), '\0');
  duckdb::LowerCase(s.data(), s.size(), out.data());
  return out;
}

class LikeNode final : public Node {
 public:
  LikeNode(bool negate, bool fold, NodePtr input, NodePtr pattern)
      : negate_(negate), fold_(fold), input_(std::move(input)), pattern_(std::move(pattern)) {}
  Value Eval(const Row& row) const override {
    const Value s = input_->Eval(row), p = pattern_->Eval(row);
    if (s.IsNull() || p.IsNull()) return Value(duckdb::LogicalType::BOOLEAN);
    const std::string text = s.ToString(), pattern = p.ToString();
    const bool like = fold_ ? Like(Fold(text), Fold(pattern)) : Like(text, pattern);
    return Value::BOOLEAN(like != negate_);
  }

 private:
  bool negate_, fold_;
  NodePtr input_, pattern_;
};

// + - * / % as the engine types them: / divides as DOUBLE (IEEE: x/0 is infinite); with a
// DOUBLE operand the others are DOUBLE too; with a DECIMAL one, exact decimal arithmetic;
// integers keep the wider operand's type (a literal takes the other operand's), and a
// result out of that type's range raises. % by zero is NULL.
class ArithNode final : public Node {
 public:
  ArithNode(char op, NodePtr l, NodePtr r) : op_(op), l_(std::move(l)), r_(std::move(r)) {}
  Value Eval(const Row& row) const override {
    const Value a = l_->Eval(row), b = r_->Eval(row);
    const auto& ta = a.type();
    const auto& tb = b.type();
    auto is_decimal = [](const duckdb::LogicalType& t) {
      return t.id() == duckdb::LogicalTypeId::DECIMAL;
    };
    const bool integral = ta.IsIntegral() && tb.IsIntegral();
    const bool exact = (ta.IsIntegral() || is_decimal(ta)) && (tb.IsIntegral() || is_decimal(tb));
    if (op_ == '/' || !exact) {
      if (a.IsNull() || b.IsNull()) return Value(duckdb::LogicalType::DOUBLE);
      const double x = a.GetValue<double>(), y = b.GetValue<double>();
      switch (op_) {
        case '+':
          return Value::DOUBLE(x + y);
        case '-':
          return Value::DOUBLE(x - y);
        case '*':
          return Value::DOUBLE(x * y);
        case '/':
          return Value::DOUBLE(x / y);
        default:
          return Value::DOUBLE(std::fmod(x, y));
      }
    }
    if (!integral) return Decimal(a, b);
    const duckdb::LogicalType type = ResultType(a, b);
    if (a.IsNull() || b.IsNull()) return Value(type);
    using Wide = __int128;
    const Wide x = a.GetValue<int64_t>(), y = b.GetValue<int64_t>();
    const Wide lo = Min(type), hi = -(lo + 1);
    Wide r = 0;
    switch (op_) {
      case '+':
        r = x + y;
        break;
      case '-':
        r = x - y;
        break;
      case '*':
        r = x * y;
        break;
      default:
        if (y == 0) return Value(type);
        if (x == lo && y == -1) throw EvalError{};  // the engine reports it as an overflow
        r = x % y;
    }
    if (r < lo || r > hi) throw EvalError{};
    return Value::Numeric(type, static_cast<int64_t>(r));
  }

 private:
  static __int128 Min(const duckdb::LogicalType& type) {
    return -(static_cast<__int128>(1) << (duckdb::GetTypeIdSize(type.InternalType()) * 8 - 1));
  }
  static int Rank(const duckdb::LogicalType& type) {
    return static_cast<int>(duckdb::GetTypeIdSize(type.InternalType()));
  }
  static bool Fits(const Value& v, const duckdb::LogicalType& type) {
    if (v.IsNull()) return true;
    const __int128 x = v.GetValue<int64_t>(), lo = Min(type);
    return x >= lo && x <= -(lo + 1);
  }
  duckdb::LogicalType ResultType(const Value& a, const Value& b) const {
    if (l_->IsLiteral() && !r_->IsLiteral() && Fits(a, b.type())) return b.type();
    if (r_->IsLiteral() && !l_->IsLiteral() && Fits(b, a.type())) return a.type();
    return Rank(a.type()) >= Rank(b.type()) ? a.type() : b.type();
  }

  // An integer or decimal as (unscaled, scale).
  static std::pair<__int128, uint8_t> Unscaled(const Value& v) {
    if (v.type().IsIntegral()) return {v.GetValue<int64_t>(), 0};
    const uint8_t scale = duckdb::DecimalType::GetScale(v.type());
    switch (v.type().InternalType()) {
      case duckdb::PhysicalType::INT16:
        return {duckdb::SmallIntValue::Get(v), scale};
      case duckdb::PhysicalType::INT32:
        return {duckdb::IntegerValue::Get(v), scale};
      case duckdb::PhysicalType::INT64:
        return {duckdb::BigIntValue::Get(v), scale};
      default: {
        const duckdb::hugeint_t h = duckdb::HugeIntValue::Get(v);
        return {(static_cast<__int128>(h.upper) << 64) | h.lower, scale};
      }
    }
  }

  Value Decimal(const Value& a, const Value& b) const {
    if (a.IsNull() || b.IsNull()) return Value(duckdb::LogicalType::DECIMAL(38, 0));
    auto [x, sx] = Unscaled(a);
    auto [y, sy] = Unscaled(b);
    __int128 limit = 1;  // 10^38: DECIMAL(38) is the widest the engine has
    for (int i = 0; i < 38; ++i) limit *= 10;
    auto scale_up = [&](__int128& v, int by) {
      for (; by > 0; --by) {
        if (v > limit || v < -limit) throw EvalError{};
        v *= 10;
      }
    };
    __int128 r = 0;
    int scale = 0;
    if (op_ == '*') {
      scale = sx + sy;
      if (__builtin_mul_overflow(x, y, &r)) throw EvalError{};
    } else {
      scale = std::max(sx, sy);
      scale_up(x, scale - sx);
      scale_up(y, scale - sy);
      if (op_ == '+')
        r = x + y;
      else if (op_ == '-')
        r = x - y;
      else if (y == 0)
        return Value(duckdb::LogicalType::DECIMAL(38, scale));
      else
        r = x % y;
    }
    if (r >= limit || r <= -limit || scale > 38) throw EvalError{};
    duckdb::hugeint_t h;
    h.lower = static_cast<uint64_t>(r);
    h.upper = static_cast<int64_t>(r >> 64);
    return Value::DECIMAL(h, 38, static_cast<uint8_t>(scale));
  }

  char op_;
  NodePtr l_, r_;
};

// CAST raises where the value does not convert; TRY_CAST gives NULL.
class CastNode final : public Node {
 public:
  CastNode(duckdb::LogicalType type, bool try_cast, NodePtr child)
      : type_(std::move(type)), try_cast_(try_cast), child_(std::move(child)) {}
  Value Eval(const Row& row) const override {
    Value v = child_->Eval(row);
    if (v.IsNull()) return Value(type_);
    Value out;
    std::string error;
    bool ok = false;
    try {
      ok = v.DefaultTryCastAs(type_, out, &error);
    } catch (const std::exception&) {
    }
    if (ok) return out;
    if (try_cast_) return Value(type_);
    throw EvalError{};
  }

 private:
  duckdb::LogicalType type_;
  bool try_cast_;
  NodePtr child_;
};

class PredicateImpl final : public RowPredicate {
 public:
  explicit PredicateImpl(NodePtr root) : root_(std::move(root)) {}
  bool Matches(const std::vector<store::Cell>& cells, int64_t seq) const override {
    try {
      return Truthy(root_->Eval(Row{cells, seq}));
    } catch (const EvalError&) {
      return false;
    } catch (const std::exception&) {
      return false;  // whatever the engine's values raise: still no match, never a crash
    }
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
        if ((*child)->IsNullConstant()) return Null(c.cast_type);
        return NodePtr(std::make_unique<CastNode>(c.cast_type, c.try_cast, std::move(*child)));
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
        const bool like = name == "~~" || name == "!~~" || name == "~~*" || name == "!~~*";
        const bool arith =
            name.size() == 1 && std::string_view("+-*/%").find(name[0]) != std::string_view::npos;
        if (!like && !arith) break;
        // As the engine binds a function of a NULL constant: NULL, the other side unevaluated.
        if ((*l)->IsNullConstant() || (*r)->IsNullConstant()) {
          return Null(duckdb::LogicalType::SQLNULL);
        }
        if (like) {
          return NodePtr(std::make_unique<LikeNode>(name[0] == '!', name.back() == '*',
                                                    std::move(*l), std::move(*r)));
        }
        return NodePtr(std::make_unique<ArithNode>(name[0], std::move(*l), std::move(*r)));
      }
      default:
        break;
    }
    return Unsupported("Expression " + e.ToString() + " is not supported in subscriptions");
  }

 private:
  static Result<NodePtr> Null(const duckdb::LogicalType& type) {
    return NodePtr(std::make_unique<ConstantNode>(Value(type)));
  }

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

namespace {

// A predicate with the table definition its nodes point into.
class TableOwningPredicate final : public RowPredicate {
 public:
  TableOwningPredicate(std::shared_ptr<const catalog::TableDef> table, std::unique_ptr<RowPredicate> inner)
      : table_(std::move(table)), inner_(std::move(inner)) {}
  bool Matches(const std::vector<store::Cell>& cells, int64_t seq) const override {
    return inner_->Matches(cells, seq);
  }

 private:
  std::shared_ptr<const catalog::TableDef> table_;
  std::unique_ptr<RowPredicate> inner_;
};

}  // namespace

Result<std::unique_ptr<RowPredicate>> CompileRowFilter(std::string_view where,
                                                       const catalog::TableDef& table,
                                                       uint32_t version) {
  // The compiled nodes point into the table's columns: the predicate keeps its copy.
  auto as_of_ptr = std::make_shared<catalog::TableDef>(table);
  catalog::TableDef& as_of = *as_of_ptr;
  std::erase_if(as_of.schemas, [&](const catalog::TableSchema& s) { return s.version > version; });
  if (as_of.schemas.empty() || as_of.current().version != version) {
    return Status(Code::kNotFound, "Table " + table.id() + " has no schema version " + std::to_string(version));
  }
  duckdb::vector<duckdb::unique_ptr<ParsedExpression>> parsed;
  try {
    parsed = duckdb::Parser::ParseExpressionList(std::string(where));
  } catch (const std::exception& e) {
    return Status(Code::kInvalidSql, "The filter '" + std::string(where) + "' does not parse: " +
                                         duckdb::ErrorData(e).RawMessage());
  }
  if (parsed.size() != 1) {
    return Status(Code::kInvalidSql, "The filter '" + std::string(where) + "' must be one condition");
  }
  auto compiled = CompilePredicate(*parsed[0], as_of, Lower(as_of.name));
  if (!compiled.ok()) return compiled.status();
  return std::unique_ptr<RowPredicate>(
      std::make_unique<TableOwningPredicate>(std::move(as_of_ptr), std::move(compiled).value()));
}

void AppendCellJson(std::string& out, const catalog::ColumnDef& column, const store::Cell& cell) {
  query::AppendValue(out, query::CellToValue(column, cell));
}

std::string CellText(const catalog::ColumnDef& column, const store::Cell& cell) {
  if (store::IsNull(cell)) return "";
  if (const auto* text = std::get_if<std::string>(&cell); text != nullptr && column.type == ColumnType::kText) {
    return *text;
  }
  return query::CellToValue(column, cell).ToString();
}

}  // namespace kalam::live
