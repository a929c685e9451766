#include "sql/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/sql_lexer.h"

namespace kalam::sql {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A negative number is parenthesized: "x-$1" must not become the comment "x--5".
std::string NumberLiteral(std::string text) {
  return text.front() == '-' ? "(" + text + ")" : text;
}

std::string StringLiteral(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += '\'';
  return out;
}

// The SQL literal of a parameter that stands for $n.
Result<std::string> Literal(const ParamValue& value, size_t n) {
  struct Visitor {
    size_t n;
    Result<std::string> operator()(std::monostate) const { return std::string("NULL"); }
    Result<std::string> operator()(bool b) const { return std::string(b ? "TRUE" : "FALSE"); }
    Result<std::string> operator()(int64_t i) const { return NumberLiteral(fmt::format("{}", i)); }
    Result<std::string> operator()(uint64_t u) const { return fmt::format("{}", u); }
    Result<std::string> operator()(double d) const {
      if (!std::isfinite(d)) {
        return Status(Code::kInvalidParameter,
                      fmt::format("Parameter ${} is not a finite number", n));
      }
      // "{}" is the shortest text that reads back as the same double; DuckDB types a literal
      // with an exponent as DOUBLE (0.1 alone would be a DECIMAL).
      std::string text = fmt::format("{}", d);
      if (text.find_first_of("eE") == std::string::npos) text += "e0";
      return NumberLiteral(std::move(text));
    }
    Result<std::string> operator()(const std::string& s) const { return StringLiteral(s); }
    // Parenthesized, as a negative number: "x-$1" must not become "x--5".
    Result<std::string> operator()(const SqlLiteral& l) const { return "(" + l.text + ")"; }
  };
  return std::visit(Visitor{n}, value);
}

// Whether sql[pos] starts a parameter $n. A '$' that continues an identifier (a$1) does
// not; $tag$ quotes are spans and never reach here.
bool IsParameterAt(std::string_view sql, size_t pos) {
  return sql[pos] == '$' && pos + 1 < sql.size() && IsDigit(sql[pos + 1]) &&
         (pos == 0 || !IsIdentifierChar(sql[pos - 1]));
}

// Calls on_param(pos, end, n) for every $n of statement, in order; n is capped at cap + 1.
// Stops at the first error it returns.
template <typename OnParam>
Status ForEachParam(std::string_view statement, size_t cap, OnParam on_param) {
  size_t pos = 0;
  while (pos < statement.size()) {
    if (std::optional<Span> span = SpanAt(statement, pos)) {
      pos = span->end;
      continue;
    }
    if (!IsParameterAt(statement, pos)) {
      ++pos;
      continue;
    }
    size_t end = pos + 1;
    size_t n = 0;
    for (; end < statement.size() && IsDigit(statement[end]); ++end) {
      n = std::min(n * 10 + static_cast<size_t>(statement[end] - '0'), cap + 1);
    }
    KALAM_RETURN_IF_ERROR(on_param(pos, end, n));
    pos = end;
  }
  return Status::Ok();
}

}  // namespace

size_t HighestParam(std::string_view statement) {
  constexpr size_t kCap = 65535;  // a Bind message counts its parameters in an int16
  size_t highest = 0;
  (void)ForEachParam(statement, kCap, [&](size_t, size_t, size_t n) {
    highest = std::max(highest, n);
    return Status::Ok();
  });
  return highest;
}

Result<std::string> BindParams(std::string_view statement, const std::vector<ParamValue>& params) {
  std::string bound;
  std::vector<bool> used(params.size(), false);
  size_t copied = 0;  // statement[0, copied) is already in bound
  const Status walked = ForEachParam(statement, params.size(), [&](size_t pos, size_t end, size_t n) -> Status {
    if (n == 0 || n > params.size()) {
      return Status(Code::kInvalidParameter,
                    fmt::format("Parameter {} has no value ({} given)",
                                statement.substr(pos, end - pos), params.size()));
    }
    Result<std::string> literal = Literal(params[n - 1], n);
    if (!literal.ok()) return literal.status();
    bound.append(statement.substr(copied, pos - copied));
    bound += *literal;
    used[n - 1] = true;
    copied = end;
    return Status::Ok();
  });
  if (!walked.ok()) return walked;
  bound.append(statement.substr(copied));

  for (size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) {
      return Status(Code::kInvalidParameter, fmt::format("Parameter {} is never used", i + 1));
    }
  }
  return bound;
}

}  // namespace kalam::sql
