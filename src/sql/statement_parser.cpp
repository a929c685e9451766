#include "sql/statement_parser.h"

#include <algorithm>
#include <charconv>

namespace kalam::sql {

bool IsKeyword(const Token& token, std::string_view keyword) {
  return token.kind == TokenKind::kWord && token.text.size() == keyword.size() &&
         std::equal(keyword.begin(), keyword.end(), token.text.begin(),
                    [](char k, char c) { return k == UpperChar(c); });
}

bool IsSymbol(const Token& token, char symbol) {
  return token.kind == TokenKind::kSymbol && token.text[0] == symbol;
}

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

std::string QuoteSql(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') out += c;
  }
  return out + "'";
}

std::optional<int64_t> WholeNumber(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || text[0] == '-') {
    return std::nullopt;
  }
  return value;
}

namespace {

using ParseFunction = Result<KalamStatement> (StatementParser::*)();

// CREATE USER TABLE t, not CREATE USER table WITH PASSWORD ... (a user named "table").
bool ContinuesCreateUserTable(const Token& next) {
  return next.kind != TokenKind::kEnd && !IsSymbol(next, ';') && !IsKeyword(next, "WITH") &&
         !IsKeyword(next, "PASSWORD") && !IsKeyword(next, "ROLE") && !IsKeyword(next, "EMAIL");
}

// DROP USER TABLE t, not DROP USER table.
bool ContinuesDropUserTable(const Token& next) {
  return next.kind != TokenKind::kEnd && !IsSymbol(next, ';');
}

// DESCRIBE t, not DESCRIBE SELECT ... nor DESCRIBE (SELECT ...), which are the engine's.
bool ContinuesDescribeTable(const Token& next) {
  if (next.kind == TokenKind::kQuotedIdentifier) return true;
  if (next.kind != TokenKind::kWord) return false;
  for (const std::string_view query : {"SELECT", "WITH", "FROM", "VALUES", "TABLE", "PIVOT",
                                       "UNPIVOT", "SUMMARIZE", "DESCRIBE", "DESC", "SHOW"}) {
    if (IsKeyword(next, query)) return false;
  }
  return true;
}

struct Form {
  std::string_view keywords;  // the leading keywords, as messages name the statement
  ParseFunction parse;
  // Whether the token after the keywords makes the statement this form rather than another
  // that starts with the same words; nullptr: always. Longer forms come first.
  bool (*continues)(const Token& next) = nullptr;
};

constexpr Form kForms[] = {
    {"CREATE NAMESPACE", &StatementParser::ParseCreateNamespace},
    {"CREATE SCHEMA", &StatementParser::ParseCreateNamespace},
    {"DROP NAMESPACE", &StatementParser::ParseDropNamespace},
    {"DROP SCHEMA", &StatementParser::ParseDropNamespace},
    {"ALTER NAMESPACE", &StatementParser::ParseAlterNamespace},
    {"SHOW NAMESPACES", &StatementParser::ParseShowNamespaces},
    {"SHOW STORAGES", &StatementParser::ParseShowStorages},
    {"CLUSTER STATUS", &StatementParser::ParseClusterStatus},
    {"CLUSTER LIST", &StatementParser::ParseClusterList},
    {"CLUSTER DRAIN", &StatementParser::ParseClusterDrain},
    {"CLUSTER UNDRAIN", &StatementParser::ParseClusterUndrain},
    {"CREATE STORAGE", &StatementParser::ParseCreateStorage},
    {"ALTER STORAGE", &StatementParser::ParseAlterStorage},
    {"DROP STORAGE", &StatementParser::ParseDropStorage},
    {"STORAGE FLUSH", &StatementParser::ParseStorageFlush},
    {"STORAGE COMPACT", &StatementParser::ParseStorageCompact},
    {"FLUSH", &StatementParser::ParseFlush},
    {"KILL JOB", &StatementParser::ParseKillJob},
    {"KILL QUERY", &StatementParser::ParseKillQuery},
    {"BACKUP DATABASE", &StatementParser::ParseBackup},
    {"RESTORE DATABASE", &StatementParser::ParseRestore},
    {"KILL LIVE QUERY", &StatementParser::ParseKillLiveQuery},
    {"SUBSCRIBE TO", &StatementParser::ParseSubscribeTo},
    {"EXECUTE AS USER", &StatementParser::ParseExecuteAsUser},
    {"EXECUTE AS", &StatementParser::ParseExecuteAs},
    {"CREATE USER TABLE", &StatementParser::ParseCreateUserTable, &ContinuesCreateUserTable},
    {"CREATE USER", &StatementParser::ParseCreateUser},
    {"ALTER USER", &StatementParser::ParseAlterUser},
    {"DROP USER TABLE", &StatementParser::ParseDropTable, &ContinuesDropUserTable},
    {"DROP USER", &StatementParser::ParseDropUser},
    {"CREATE TABLE", &StatementParser::ParseCreateTable},
    {"CREATE SHARED TABLE", &StatementParser::ParseCreateSharedTable},
    {"CREATE STREAM TABLE", &StatementParser::ParseCreateStreamTable},
    {"DROP TABLE", &StatementParser::ParseDropTable},
    {"DROP SHARED TABLE", &StatementParser::ParseDropTable},
    {"DROP STREAM TABLE", &StatementParser::ParseDropTable},
    {"ALTER TABLE", &StatementParser::ParseAlterTable},
    {"SHOW TABLES", &StatementParser::ParseShowTables},
    {"SHOW STATS", &StatementParser::ParseShowStats},
    {"DESCRIBE TABLE", &StatementParser::ParseDescribeTable},
    {"DESC TABLE", &StatementParser::ParseDescribeTable},
    {"DESCRIBE", &StatementParser::ParseDescribeTable, &ContinuesDescribeTable},
    {"DESC", &StatementParser::ParseDescribeTable, &ContinuesDescribeTable},
    {"CREATE TOPIC", &StatementParser::ParseCreateTopic},
    {"DROP TOPIC", &StatementParser::ParseDropTopic},
    {"CLEAR TOPIC", &StatementParser::ParseClearTopic},
    {"ALTER TOPIC", &StatementParser::ParseAlterTopic},
    {"CONSUME FROM", &StatementParser::ParseConsume},
    {"ACK", &StatementParser::ParseAck},
    {"RESET CONSUMER GROUP", &StatementParser::ParseResetConsumerGroup},
    {"BEGIN", &StatementParser::ParseBegin},
    {"START TRANSACTION", &StatementParser::ParseBegin},
    {"COMMIT", &StatementParser::ParseCommit},
    {"END", &StatementParser::ParseCommit},
    {"ROLLBACK", &StatementParser::ParseRollback},
    {"ABORT", &StatementParser::ParseRollback},
};

// How many tokens the form's keywords take at the start of tokens; 0 when it is not this form.
size_t Match(const Form& form, const std::vector<Token>& tokens) {
  size_t count = 0;
  std::string_view keywords = form.keywords;
  while (!keywords.empty()) {
    const size_t space = std::min(keywords.find(' '), keywords.size());
    if (!IsKeyword(tokens[count], keywords.substr(0, space))) return 0;
    keywords.remove_prefix(std::min(space + 1, keywords.size()));
    ++count;  // tokens end with kEnd, which is no keyword: tokens[count] exists
  }
  return form.continues == nullptr || form.continues(tokens[count]) ? count : 0;
}

}  // namespace

Result<std::optional<KalamStatement>> ParseKalamStatement(std::string_view sql) {
  std::vector<Token> tokens = Tokenize(sql);
  size_t keywords = 0;
  const auto form = std::find_if(std::begin(kForms), std::end(kForms), [&](const Form& f) {
    keywords = Match(f, tokens);
    return keywords > 0;
  });
  if (form == std::end(kForms)) return std::optional<KalamStatement>();

  const std::string statement(form->keywords);
  for (const Token& token : tokens) {
    if (token.kind == TokenKind::kInvalid) {
      return Status(Code::kInvalidSql, fmt::format("{} in {}", token.text, statement));
    }
  }
  StatementParser parser(sql, std::move(tokens), statement, keywords);
  Result<KalamStatement> parsed = (parser.*form->parse)();
  if (!parsed.ok()) return parsed.status();
  KALAM_RETURN_IF_ERROR(parser.ExpectEnd());
  return std::optional<KalamStatement>(std::move(*parsed));
}

}  // namespace kalam::sql