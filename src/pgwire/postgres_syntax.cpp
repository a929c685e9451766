#include "pgwire/postgres_syntax.h"

#include <vector>

#include "common/sql_lexer.h"
#include "common/text.h"

namespace kalam::pgwire {
namespace {

using sql::Token;
using sql::TokenKind;

// Object id types: their values are numbers here (a name does not cast to one).
constexpr std::string_view kOidTypes[] = {
    "oid",     "regclass",    "regtype", "regnamespace", "regproc", "regprocedure",
    "regoper", "regoperator", "regrole", "regconfig",    "regdictionary", "xid", "cid", "xid8"};

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == TokenKind::kWord && EqualsIgnoreCase(t.text, word);
}
bool IsSymbol(const Token& t, char c) {
  return t.kind == TokenKind::kSymbol && t.text.size() == 1 && t.text[0] == c;
}

std::string Quoted(std::string_view value) {
  std::string out = "'";
  for (const char c : value) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

class Rewriter {
 public:
  explicit Rewriter(std::string_view sql) : sql_(sql), t_(sql::Tokenize(sql)) {}

  std::string Run() {
    for (size_t i = 0; t_[i].kind != TokenKind::kEnd;) i = Step(i);
    std::string out;
    out.reserve(sql_.size() + 32);
    size_t pos = 0;
    for (const Edit& e : edits_) {
      out.append(sql_.substr(pos, e.begin - pos));
      out += e.text;
      pos = e.end;
    }
    out.append(sql_.substr(pos));
    return out;
  }

 private:
  struct Edit {
    size_t begin, end;  // the replaced text: [begin, end)
    std::string text;
  };

  size_t Begin(size_t i) const { return static_cast<size_t>(t_[i].source.data() - sql_.data()); }
  size_t End(size_t i) const { return Begin(i) + t_[i].source.size(); }
  bool Adjacent(size_t a, size_t b) const { return End(a) == Begin(b); }
  void Replace(size_t first, size_t last, std::string text) {
    edits_.push_back({Begin(first), End(last), std::move(text)});
  }
  // pg_catalog . at i: the index after it, else i.
  size_t SkipCatalog(size_t i) const {
    return IsWord(t_[i], "pg_catalog") && IsSymbol(t_[i + 1], '.') ? i + 2 : i;
  }

  // Rewrites what starts at token i; returns the next token to look at.
  size_t Step(size_t i) {
    const Token& t = t_[i];
    if (IsWord(t, "OPERATOR") && IsSymbol(t_[i + 1], '(')) return Operator(i);
    if (IsWord(t, "COLLATE")) return Collate(i);
    if (IsSymbol(t, ':') && IsSymbol(t_[i + 1], ':') && Adjacent(i, i + 1)) return TypeName(i + 2, false);
    if (IsWord(t, "AS") && SkipCatalog(i + 1) != i + 1) return TypeName(i + 1, true);
    if (IsSymbol(t, '~') && !(i > 0 && IsSymbol(t_[i - 1], '~') && Adjacent(i - 1, i)) &&
        !((IsSymbol(t_[i + 1], '~') || IsSymbol(t_[i + 1], '*')) && Adjacent(i, i + 1))) {
      return Pattern(i + 1);
    }
    if (IsWord(t, "LIKE") || IsWord(t, "ILIKE")) return LikePattern(i + 1);
    return i + 1;
  }

  // OPERATOR([pg_catalog.]op) -> op
  size_t Operator(size_t i) {
    size_t j = SkipCatalog(i + 2);
    std::string op;
    for (; t_[j].kind == TokenKind::kSymbol && !IsSymbol(t_[j], '(') && !IsSymbol(t_[j], ')'); ++j) op += t_[j].text;
    if (op.empty() || !IsSymbol(t_[j], ')')) return i + 1;
    Replace(i, j, " " + op + " ");
    if (op == "~" || op == "!~") return Pattern(j + 1);
    return j + 1;
  }

  // COLLATE [pg_catalog.]default -> nothing
  size_t Collate(size_t i) {
    const size_t j = SkipCatalog(i + 1);
    const Token& name = t_[j];
    if ((name.kind == TokenKind::kWord || name.kind == TokenKind::kQuotedIdentifier) &&
        EqualsIgnoreCase(name.text, "default")) {
      Replace(i, j, "");
      return j + 1;
    }
    return i + 1;
  }

  // The type name at i, after :: or AS: pg_catalog's qualifier dropped, object id types as
  // numbers, name and "char" as text.
  size_t TypeName(size_t i, bool after_as) {
    const size_t j = SkipCatalog(i);
    const Token& name = t_[j];
    if (name.kind != TokenKind::kWord && name.kind != TokenKind::kQuotedIdentifier) return i;
    const std::string lower = Lower(name.text);
    std::string mapped;
    if (name.kind == TokenKind::kWord) {
      for (std::string_view oid_type : kOidTypes) {
        if (lower == oid_type) mapped = "BIGINT";
      }
      if (lower == "name") mapped = "VARCHAR";
    } else if (name.text == "char") {
      mapped = "VARCHAR";
    }
    if (after_as && j == i) return i;  // AS alias: not a type
    if (!mapped.empty()) {
      Replace(i, j, mapped);
    } else if (j != i) {
      Replace(i, j - 1, "");  // drop "pg_catalog."
    }
    return j + 1;
  }

  // The pattern of ~ or !~: Postgres finds it anywhere in the text, the engine's ~ must
  // match all of it, so it is wrapped to allow anything around it.
  size_t Pattern(size_t i) {
    if (t_[i].kind != TokenKind::kString) return i;
    Replace(i, i, Quoted("(?s:.*)(?:" + t_[i].text + ")(?s:.*)"));
    return i + 1;
  }

  // Postgres' LIKE escapes with a backslash unless told otherwise; the engine's does not.
  size_t LikePattern(size_t i) {
    if (t_[i].kind != TokenKind::kString || t_[i].text.find('\\') == std::string::npos ||
        IsWord(t_[i + 1], "ESCAPE")) {
      return i;
    }
    edits_.push_back({End(i), End(i), " ESCAPE '\\'"});
    return i + 1;
  }

  std::string_view sql_;
  std::vector<Token> t_;
  std::vector<Edit> edits_;  // in the order of the text, never overlapping
};

}  // namespace

std::string RewritePostgresSyntax(std::string_view statement) { return Rewriter(statement).Run(); }

}  // namespace kalam::pgwire
