#include "pgwire/session_settings.h"

#include "common/json_text.h"
#include "common/sql_lexer.h"
#include "common/text.h"
#include "pgwire/command_tag.h"

namespace kalam::pgwire {
namespace {

using sql::Token;
using sql::TokenKind;

// Settings whose changes Postgres reports with ParameterStatus, by lower-cased name.
constexpr std::pair<std::string_view, std::string_view> kReportedNames[] = {
    {"server_version", "server_version"},
    {"server_encoding", "server_encoding"},
    {"client_encoding", "client_encoding"},
    {"application_name", "application_name"},
    {"datestyle", "DateStyle"},
    {"timezone", "TimeZone"},
    {"intervalstyle", "IntervalStyle"},
    {"integer_datetimes", "integer_datetimes"},
    {"standard_conforming_strings", "standard_conforming_strings"},
    {"is_superuser", "is_superuser"},
    {"session_authorization", "session_authorization"},
    {"default_transaction_read_only", "default_transaction_read_only"},
    {"in_hot_standby", "in_hot_standby"},
};

std::string_view ReportedName(std::string_view name) {
  for (const auto& [lower, reported] : kReportedNames) {
    if (lower == name) return reported;
  }
  return {};
}

const std::string_view* FixedValue(std::string_view name) {
  for (const auto& [fixed, value] : query::pg::kFixedSettings) {
    if (fixed == name) return &value;
  }
  return nullptr;
}

// A one-column, one-row text result.
query::RowSet OneValue(std::string_view column, std::string_view value) {
  query::RowSet rows;
  rows.schema_json = "[{\"name\":" + JsonString(column) + ",\"data_type\":\"Text\",\"index\":0}]";
  rows.rows_json = "[[" + JsonString(value) + "]]";
  rows.row_count = 1;
  return rows;
}

LocalAnswer Done(std::string tag) {
  LocalAnswer answer;
  answer.tag = std::move(tag);
  return answer;
}

LocalAnswer Refused(std::string message) {
  LocalAnswer answer;
  answer.error = {Code::kInvalidSql, std::move(message)};
  return answer;
}

LocalAnswer Value(std::string_view column, std::string_view value, std::string tag) {
  LocalAnswer answer = Done(std::move(tag));
  answer.rows = OneValue(column, value);
  return answer;
}

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == TokenKind::kWord && EqualsIgnoreCase(t.text, word);
}

// A name as Postgres folds it: unquoted words lower-cased, quoted ones as written.
std::string NameOf(const Token& t) { return t.kind == TokenKind::kWord ? Lower(t.text) : t.text; }

bool AtEnd(const std::vector<Token>& tokens, size_t i) {
  return tokens[i].kind == TokenKind::kEnd ||
         (tokens[i].kind == TokenKind::kSymbol && tokens[i].text == ";" &&
          tokens[i + 1].kind == TokenKind::kEnd);
}

// The namespace a search_path names: its first entry, "$user" skipped; public is KalamDB's
// default namespace.
std::string NamespaceOfSearchPath(const std::vector<std::string>& entries) {
  for (const std::string& entry : entries) {
    if (entry == "$user") continue;
    return entry == "public" ? "default" : entry;
  }
  return "default";
}

LocalAnswer Set(SessionSettings& settings, const std::string& name,
                const std::vector<std::string>& values) {
  LocalAnswer answer;
  answer.tag = "SET";
  std::string value;
  for (const std::string& v : values) value += (value.empty() ? "" : ", ") + v;
  if (name == "search_path") {
    settings.namespace_id = NamespaceOfSearchPath(values);
    return answer;
  }
  if (const std::string_view* fixed = FixedValue(name)) {
    const bool utf8 = EqualsIgnoreCase(value, "UTF8") || EqualsIgnoreCase(value, "UTF-8") ||
                      EqualsIgnoreCase(value, "UNICODE");
    if (name == "client_encoding") {
      if (!utf8) answer.error = {Code::kUnsupported, "KalamDB speaks UTF8 only: client_encoding " + value + " is not supported"};
    } else if (name == "server_version" || name == "server_version_num" ||
               name == "server_encoding" || name == "integer_datetimes" ||
               name == "in_hot_standby" || name == "max_identifier_length") {
      answer.error = {Code::kUnsupported, "parameter \"" + name + "\" cannot be changed"};
    } else if (!value.empty() && !EqualsIgnoreCase(value, *fixed) &&
               !(name == "datestyle" && EqualsIgnoreCase(value.substr(0, 3), "ISO")) &&
               !(name == "timezone" && (EqualsIgnoreCase(value, "GMT") || EqualsIgnoreCase(value, "Etc/UTC")))) {
      answer.notice = "KalamDB keeps " + name + " = " + std::string(*fixed) + "; " + value + " is ignored";
    }
    return answer;  // a fixed setting keeps its value
  }
  settings.values[name] = value;
  if (std::string_view reported = ReportedName(name); !reported.empty()) {
    answer.reported.emplace_back(reported, value);
  }
  return answer;
}

// SET [SESSION | LOCAL] name {TO | =} value [, ...] | SET TIME ZONE value, and the SET
// TRANSACTION / SESSION CHARACTERISTICS forms (accepted: isolation is always snapshot).
LocalAnswer ParseSet(const std::vector<Token>& t, SessionSettings& settings) {
  size_t i = 1;
  if (IsWord(t[i], "SESSION") || IsWord(t[i], "LOCAL")) ++i;
  if (IsWord(t[i], "TRANSACTION") || IsWord(t[i], "CHARACTERISTICS")) return Done("SET");
  std::string name;
  if (IsWord(t[i], "TIME") && IsWord(t[i + 1], "ZONE")) {
    name = "timezone";
    i += 2;
  } else if (t[i].kind == TokenKind::kWord || t[i].kind == TokenKind::kQuotedIdentifier) {
    name = NameOf(t[i++]);
    while (t[i].kind == TokenKind::kSymbol && t[i].text == "." &&
           (t[i + 1].kind == TokenKind::kWord || t[i + 1].kind == TokenKind::kQuotedIdentifier)) {
      name += "." + NameOf(t[i + 1]);
      i += 2;
    }
    if (IsWord(t[i], "TO") || (t[i].kind == TokenKind::kSymbol && t[i].text == "=")) {
      ++i;
    } else {
      return Refused("SET " + name + ": expected TO or =");
    }
  } else {
    return Refused("SET: expected a setting name");
  }
  std::vector<std::string> values;
  std::string sign;
  for (; !AtEnd(t, i); ++i) {
    const Token& v = t[i];
    if (v.kind == TokenKind::kSymbol && (v.text == "," || v.text == "-" || v.text == "+")) {
      sign = v.text == "-" ? "-" : "";
      continue;
    }
    if (v.kind == TokenKind::kSymbol || v.kind == TokenKind::kInvalid) {
      return Refused("SET " + name + ": unexpected '" + v.text + "'");
    }
    values.push_back(sign + (v.kind == TokenKind::kWord && name == "search_path" ? NameOf(v) : v.text));
    sign.clear();
  }
  if (values.empty()) return Refused("SET " + name + ": expected a value");
  if (values.size() == 1 && IsWord(t[i - 1], "DEFAULT")) {
    settings.values.erase(name);
    if (name == "search_path") settings.namespace_id = "default";
    return Done("SET");
  }
  return Set(settings, name, values);
}

std::optional<LocalAnswer> Show(const std::vector<Token>& t, const SessionSettings& settings) {
  if (t[1].kind != TokenKind::kWord || !AtEnd(t, 2)) return std::nullopt;
  const std::string name = Lower(t[1].text);
  std::string value;
  if (name == "search_path") {
    value = settings.namespace_id;
  } else if (const std::string_view* fixed = FixedValue(name)) {
    value = *fixed;
  } else if (auto it = settings.values.find(name); it != settings.values.end()) {
    value = it->second;
  } else {
    return std::nullopt;  // SHOW TABLES and KalamDB's other SHOW statements
  }
  return Value(name, value, "SHOW");
}

// SELECT [pg_catalog.]fn[()] [[AS] alias], fn one of the session's functions.
std::optional<LocalAnswer> SelectFunction(const std::vector<Token>& t, const SessionSettings& settings) {
  size_t i = 1;
  if (IsWord(t[i], "pg_catalog") && t[i + 1].text == ".") i += 2;
  if (t[i].kind != TokenKind::kWord) return std::nullopt;
  const std::string fn = Lower(t[i++].text);
  const bool parens = t[i].text == "(" && t[i + 1].text == ")";
  if (parens) i += 2;
  std::string value;
  if (fn == "version" && parens) {
    value = query::pg::kVersionText;
  } else if (fn == "current_schema") {
    value = settings.namespace_id;
  } else if (fn == "current_database" && parens) {
    value = settings.database;
  } else if ((fn == "current_user" || fn == "session_user") && !parens) {
    value = settings.user;
  } else {
    return std::nullopt;
  }
  std::string column = fn;
  if (IsWord(t[i], "AS")) ++i;
  if (t[i].kind == TokenKind::kWord || t[i].kind == TokenKind::kQuotedIdentifier) column = NameOf(t[i++]);
  if (!AtEnd(t, i)) return std::nullopt;
  return Value(column, value, "SELECT 1");
}

// Longest SELECT looked at: the functions above fit easily; longer texts are queries.
constexpr size_t kMaxLocalSelect = 200;

}  // namespace

SessionSettings SessionSettings::AtStartup(const std::map<std::string, std::string>& startup) {
  SessionSettings settings;
  for (const auto& [name, value] : query::pg::kFixedSettings) settings.values[std::string(name)] = value;
  settings.values["application_name"] = "";
  settings.values["extra_float_digits"] = "1";
  settings.values["default_transaction_read_only"] = "off";
  if (auto it = startup.find("user"); it != startup.end()) settings.user = it->second;
  settings.values["session_authorization"] = settings.user;
  if (auto it = startup.find("database"); it != startup.end() && !it->second.empty()) {
    settings.database = it->second;
  }
  if (auto it = startup.find("application_name"); it != startup.end()) {
    settings.values["application_name"] = it->second;
  }
  if (auto it = startup.find("extra_float_digits"); it != startup.end()) {
    settings.values["extra_float_digits"] = it->second;
  }
  return settings;
}

std::vector<std::pair<std::string, std::string>> SessionSettings::Reported() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [lower, reported] : kReportedNames) {
    if (lower == "is_superuser") {
      out.emplace_back(reported, superuser ? "on" : "off");
    } else if (auto it = values.find(std::string(lower)); it != values.end()) {
      out.emplace_back(reported, it->second);
    }
  }
  return out;
}

std::optional<LocalAnswer> AnswerLocally(std::string_view statement, SessionSettings& settings) {
  const std::vector<std::string> words = LeadingWords(statement, 1);
  if (words.empty()) return std::nullopt;
  const std::string& first = words[0];
  if (first != "SET" && first != "RESET" && first != "SHOW" && first != "USE" &&
      !(first == "SELECT" && statement.size() <= kMaxLocalSelect)) {
    return std::nullopt;
  }
  const std::vector<Token> t = sql::Tokenize(statement);
  if (t.size() < 2) return std::nullopt;
  if (first == "SET") return ParseSet(t, settings);
  if (first == "SHOW") return Show(t, settings);
  if (first == "SELECT") return SelectFunction(t, settings);
  if (first == "USE") {
    if (t[1].kind != TokenKind::kWord && t[1].kind != TokenKind::kQuotedIdentifier) return std::nullopt;
    if (!AtEnd(t, 2)) return std::nullopt;
    settings.namespace_id = NameOf(t[1]);
    return Done("SET");
  }
  // RESET name | RESET ALL
  if (IsWord(t[1], "ALL") && AtEnd(t, 2)) {
    const SessionSettings fresh = SessionSettings::AtStartup({{"user", settings.user}, {"database", settings.database}});
    settings.values = fresh.values;
    settings.namespace_id = fresh.namespace_id;
    return Done("RESET");
  }
  if (t[1].kind != TokenKind::kWord || !AtEnd(t, 2)) {
    return Refused("RESET: expected a setting name or ALL");
  }
  const std::string name = Lower(t[1].text);
  if (name == "search_path") settings.namespace_id = "default";
  if (FixedValue(name) == nullptr) settings.values.erase(name);
  return Done("RESET");
}

}  // namespace kalam::pgwire
