#include "sql/kalam_statement.h"

#include <fmt/format.h>

#include <algorithm>

#include "sql/lexer.h"

namespace kalam::sql {

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) { return Lower(c); });
  return text;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) { return Upper(c); });
  return text;
}

bool IsKeyword(const Token& token, std::string_view keyword) {
  return token.kind == TokenKind::kWord && token.text.size() == keyword.size() &&
         std::equal(keyword.begin(), keyword.end(), token.text.begin(),
                    [](char k, char c) { return k == Upper(c); });
}

bool IsSymbol(const Token& token, char symbol) {
  return token.kind == TokenKind::kSymbol && token.text[0] == symbol;
}

// A token as an error message shows it. A string literal's value is never shown: it may be
// a password.
std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the statement";
    case TokenKind::kString:
      return "a string literal";
    default: {
      constexpr size_t kMaxShown = 40;
      if (token.source.size() > kMaxShown) {
        return fmt::format("'{}...'", token.source.substr(0, kMaxShown));
      }
      return fmt::format("'{}'", token.source);
    }
  }
}

std::string JsonString(std::string_view value) {
  std::string out = "\"";
  for (const char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// A SQL numeric literal (as the lexer reads one) as a JSON number, which has no leading
// zeros and needs digits on both sides of a '.'.
std::string JsonNumber(bool negative, std::string_view literal) {
  const size_t exponent_at = std::min(literal.find_first_of("eE"), literal.size());
  const std::string_view mantissa = literal.substr(0, exponent_at);
  const size_t dot = std::min(mantissa.find('.'), mantissa.size());
  std::string_view whole = mantissa.substr(0, dot);
  const std::string_view fraction = mantissa.substr(std::min(dot + 1, mantissa.size()));
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);

  std::string out = negative ? "-" : "";
  out += whole.empty() ? "0" : whole;
  if (!fraction.empty()) out.append(".").append(fraction);
  out += literal.substr(exponent_at);
  return out;
}

// Recursive descent over one statement whose two leading keywords have been recognized.
// Error messages name what was expected, where, and what was found instead.
class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string statement)
      : tokens_(std::move(tokens)), statement_(std::move(statement)), next_(2) {}

  Result<KalamStatement> ParseCreateNamespace() {
    CreateNamespace create;
    if (PeekKeyword("IF") && PeekKeyword("NOT", 1)) {
      next_ += 2;
      KALAM_RETURN_IF_ERROR(Expect("EXISTS", After("IF NOT")));
      create.if_not_exists = true;
    }
    Result<std::string> name =
        Identifier("a namespace name", After(create.if_not_exists ? "IF NOT EXISTS" : ""));
    if (!name.ok()) return name.status();
    create.name = std::move(*name);
    return KalamStatement(std::move(create));
  }

  Result<KalamStatement> ParseDropNamespace() {
    DropNamespace drop;
    drop.if_exists = AcceptIfExists();
    Result<std::string> name =
        Identifier("a namespace name", After(drop.if_exists ? "IF EXISTS" : ""));
    if (!name.ok()) return name.status();
    drop.name = std::move(*name);
    drop.cascade = Accept("CASCADE");
    return KalamStatement(std::move(drop));
  }

  Result<KalamStatement> ParseAlterNamespace() {
    AlterNamespace alter;
    Result<std::string> name = Identifier("a namespace name", After(""));
    if (!name.ok()) return name.status();
    alter.name = std::move(*name);
    KALAM_RETURN_IF_ERROR(Expect("SET", After("the namespace name")));
    KALAM_RETURN_IF_ERROR(Expect("OPTIONS", After("SET")));
    KALAM_RETURN_IF_ERROR(ExpectSymbol('(', After("SET OPTIONS")));
    std::string_view after = "'('";
    do {
      Result<std::string> key = OptionKey(After(after));
      after = "','";
      if (!key.ok()) return key.status();
      const std::string option = fmt::format("option '{}'", *key);
      if (std::any_of(alter.options.begin(), alter.options.end(),
                      [&](const auto& kv) { return kv.first == *key; })) {
        return Status(Code::kInvalidSql,
                      fmt::format("The {} is given twice in {}", option, statement_));
      }
      KALAM_RETURN_IF_ERROR(ExpectSymbol('=', After(option)));
      Result<std::string> value = OptionValue(option);
      if (!value.ok()) return value.status();
      alter.options.emplace_back(std::move(*key), std::move(*value));
      if (!IsSymbol(Peek(), ',') && !IsSymbol(Peek(), ')')) {
        return Fail("',' or ')'", After("the value of " + option));
      }
    } while (IsSymbol(Take(), ','));
    return KalamStatement(std::move(alter));
  }

  Result<KalamStatement> ParseShowNamespaces() { return KalamStatement(ShowNamespaces{}); }
  Result<KalamStatement> ParseShowStorages() { return KalamStatement(ShowStorages{}); }

  // The clauses after the user name come in any order; WITH may precede any of them.
  Result<KalamStatement> ParseCreateUser() {
    CreateUser create;
    if (PeekKeyword("IF") && PeekKeyword("NOT", 1)) {
      next_ += 2;
      KALAM_RETURN_IF_ERROR(Expect("EXISTS", After("IF NOT")));
      create.if_not_exists = true;
    }
    Result<std::string> name = UserName(After(create.if_not_exists ? "IF NOT EXISTS" : ""));
    if (!name.ok()) return name.status();
    create.username = std::move(*name);

    std::string_view last = "the user name";  // the clause just read, for messages
    bool has_password = false;
    bool has_role = false;
    while (!AtEnd()) {
      const bool with = Accept("WITH");
      const Token& clause = Peek();
      if (IsKeyword(clause, "PASSWORD") || IsKeyword(clause, "ROLE") ||
          IsKeyword(clause, "EMAIL")) {
        const std::string keyword = Upper(Take().text);
        const bool repeated = keyword == "PASSWORD" ? std::exchange(has_password, true)
                              : keyword == "ROLE"   ? std::exchange(has_role, true)
                                                    : create.email.has_value();
        if (repeated) {
          return Status(Code::kInvalidSql,
                        fmt::format("{} is given twice in {}", keyword, statement_));
        }
        Result<std::string> value =
            keyword == "ROLE" ? Role(After(keyword)) : String(Lower(keyword), After(keyword));
        if (!value.ok()) return value.status();
        if (keyword == "PASSWORD") {
          create.password = std::move(*value);
          last = "the password";
        } else if (keyword == "ROLE") {
          create.role = std::move(*value);
          last = "the role";
        } else {
          create.email = std::move(*value);
          last = "the email";
        }
      } else {
        return Fail("PASSWORD, ROLE or EMAIL", After(with ? "WITH" : last));
      }
    }
    if (!has_password) return Fail("WITH PASSWORD", After(last));
    if (!has_role) return Fail("ROLE", After(last));
    return KalamStatement(std::move(create));
  }

  Result<KalamStatement> ParseAlterUser() {
    AlterUser alter;
    Result<std::string> name = UserName(After(""));
    if (!name.ok()) return name.status();
    alter.username = std::move(*name);
    // WITH as in PostgreSQL's ALTER USER u WITH PASSWORD 'pw'.
    if (!PeekKeyword("SET") && !PeekKeyword("WITH")) return Fail("SET", After("the user name"));
    const std::string set = Upper(Take().text);
    const std::string clause = set + " " + Upper(Peek().text);
    if (Accept("PASSWORD")) {
      alter.field = AlterUser::Field::kPassword;
    } else if (Accept("ROLE")) {
      alter.field = AlterUser::Field::kRole;
    } else if (Accept("EMAIL")) {
      alter.field = AlterUser::Field::kEmail;
    } else {
      return Fail("PASSWORD, ROLE or EMAIL", After(set));
    }
    Result<std::string> value = alter.field == AlterUser::Field::kRole ? Role(After(clause))
                                : alter.field == AlterUser::Field::kPassword
                                    ? String("password", After(clause))
                                    : String("email", After(clause));
    if (!value.ok()) return value.status();
    alter.value = std::move(*value);
    return KalamStatement(std::move(alter));
  }

  Result<KalamStatement> ParseDropUser() {
    DropUser drop;
    drop.if_exists = AcceptIfExists();
    Result<std::string> name = UserName(After(drop.if_exists ? "IF EXISTS" : ""));
    if (!name.ok()) return name.status();
    drop.username = std::move(*name);
    return KalamStatement(std::move(drop));
  }

  // An optional ';', then nothing.
  Status ExpectEnd() {
    if (IsSymbol(Peek(), ';')) Take();
    if (Peek().kind == TokenKind::kEnd) return Status::Ok();
    return Status(Code::kInvalidSql,
                  fmt::format("Expected the end of {}, found {}", statement_, Describe(Peek())));
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() {
    const Token& token = Peek();
    next_ = std::min(next_ + 1, tokens_.size() - 1);
    return token;
  }
  bool PeekKeyword(std::string_view keyword, size_t ahead = 0) const {
    return IsKeyword(Peek(ahead), keyword);
  }
  bool Accept(std::string_view keyword) {
    if (!PeekKeyword(keyword)) return false;
    Take();
    return true;
  }
  bool AtEnd() const {
    return Peek().kind == TokenKind::kEnd ||
           (IsSymbol(Peek(), ';') && Peek(1).kind == TokenKind::kEnd);
  }
  // IF EXISTS, when IF is followed by EXISTS (else IF may be a name).
  bool AcceptIfExists() {
    if (!PeekKeyword("IF") || !PeekKeyword("EXISTS", 1)) return false;
    next_ += 2;
    return true;
  }

  // "after <what> in CREATE USER", or "after CREATE USER" when what is empty.
  std::string After(std::string_view what) const {
    if (what.empty()) return "after " + statement_;
    return fmt::format("after {} in {}", what, statement_);
  }
  Status Fail(std::string_view expected, std::string_view where) const {
    const Token& found = AtEnd() ? tokens_.back() : Peek();  // a final ';' ends the statement
    return Status(Code::kInvalidSql,
                  fmt::format("Expected {} {}, found {}", expected, where, Describe(found)));
  }
  Status Expect(std::string_view keyword, std::string_view where) {
    return Accept(keyword) ? Status::Ok() : Fail(keyword, where);
  }
  Status ExpectSymbol(char symbol, std::string_view where) {
    if (!IsSymbol(Peek(), symbol)) return Fail(fmt::format("'{}'", symbol), where);
    Take();
    return Status::Ok();
  }

  // name or "Name": unquoted names fold to lower case.
  Result<std::string> Identifier(std::string_view what, std::string_view where) {
    if (Peek().kind == TokenKind::kWord) return Lower(Take().text);
    if (Peek().kind == TokenKind::kQuotedIdentifier) return Take().text;
    return Fail(what, where);
  }
  // 'name', "Name" or name (folded).
  Result<std::string> UserName(std::string_view where) {
    if (Peek().kind == TokenKind::kString) return Take().text;
    return Identifier("a user name", where);
  }
  // role, 'role' or "role", always lower case.
  Result<std::string> Role(std::string_view where) {
    const TokenKind kind = Peek().kind;
    if (kind == TokenKind::kWord || kind == TokenKind::kQuotedIdentifier ||
        kind == TokenKind::kString) {
      return Lower(Take().text);
    }
    return Fail("a role", where);
  }
  Result<std::string> String(std::string_view what, std::string_view where) {
    if (Peek().kind == TokenKind::kString) return Take().text;
    return Fail(fmt::format("the {} as a string literal", what), where);
  }

  Result<std::string> OptionKey(std::string_view where) {
    const Token& token = Peek();
    if (token.kind == TokenKind::kWord || token.kind == TokenKind::kQuotedIdentifier ||
        token.kind == TokenKind::kString) {
      return Lower(Take().text);
    }
    return Fail("an option name", where);
  }
  // The value as JSON text.
  Result<std::string> OptionValue(const std::string& option) {
    const bool signed_number =
        (IsSymbol(Peek(), '-') || IsSymbol(Peek(), '+')) && Peek(1).kind == TokenKind::kNumber;
    const bool negative = signed_number && IsSymbol(Take(), '-');
    const Token& token = Peek();
    if (token.kind == TokenKind::kNumber) return JsonNumber(negative, Take().text);
    if (token.kind == TokenKind::kString) return JsonString(Take().text);
    for (const char* literal : {"true", "false", "null"}) {
      if (IsKeyword(token, Upper(literal))) {
        Take();
        return std::string(literal);
      }
    }
    return Fail("a value (a string, a number, TRUE, FALSE or NULL)",
                fmt::format("for {} in {}", option, statement_));
  }

  std::vector<Token> tokens_;  // ends with kEnd
  std::string statement_;      // its leading keywords, e.g. "CREATE NAMESPACE"
  size_t next_;                // the next token to read
};

using ParseFunction = Result<KalamStatement> (Parser::*)();

struct Form {
  std::string_view first;
  std::string_view second;
  ParseFunction parse;
};

constexpr Form kForms[] = {
    {"CREATE", "NAMESPACE", &Parser::ParseCreateNamespace},
    {"CREATE", "SCHEMA", &Parser::ParseCreateNamespace},
    {"DROP", "NAMESPACE", &Parser::ParseDropNamespace},
    {"DROP", "SCHEMA", &Parser::ParseDropNamespace},
    {"ALTER", "NAMESPACE", &Parser::ParseAlterNamespace},
    {"SHOW", "NAMESPACES", &Parser::ParseShowNamespaces},
    {"SHOW", "STORAGES", &Parser::ParseShowStorages},
    {"CREATE", "USER", &Parser::ParseCreateUser},
    {"ALTER", "USER", &Parser::ParseAlterUser},
    {"DROP", "USER", &Parser::ParseDropUser},
};

}  // namespace

Result<std::optional<KalamStatement>> ParseKalamStatement(std::string_view sql) {
  std::vector<Token> tokens = Tokenize(sql);
  if (tokens.size() < 2) return std::optional<KalamStatement>();
  const auto form = std::find_if(std::begin(kForms), std::end(kForms), [&](const Form& f) {
    return IsKeyword(tokens[0], f.first) && IsKeyword(tokens[1], f.second);
  });
  if (form == std::end(kForms)) return std::optional<KalamStatement>();

  const std::string statement = fmt::format("{} {}", form->first, form->second);
  for (const Token& token : tokens) {
    if (token.kind == TokenKind::kInvalid) {
      return Status(Code::kInvalidSql, fmt::format("{} in {}", token.text, statement));
    }
  }
  Parser parser(std::move(tokens), statement);
  Result<KalamStatement> parsed = (parser.*form->parse)();
  if (!parsed.ok()) return parsed.status();
  KALAM_RETURN_IF_ERROR(parser.ExpectEnd());
  return std::optional<KalamStatement>(std::move(*parsed));
}

}  // namespace kalam::sql
