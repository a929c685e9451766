#include "cli/completion.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"
#include "cli/meta_commands.h"

namespace kalam::cli {

namespace {

constexpr std::string_view kKeywords[] = {
    "ADD",       "ALL",      "ALTER",    "AND",         "AS",        "ASC",          "BETWEEN",
    "BIGINT",    "BOOLEAN",  "BY",       "BYTES",       "CASCADE",   "CASE",         "COLUMN",
    "CONFLICT",  "COUNT",    "CREATE",   "DATE",        "DECIMAL",   "DEFAULT",      "DELETE",
    "DESC",      "DESCRIBE", "DISTINCT", "DO",          "DOUBLE",    "DROP",         "ELSE",
    "END",       "EXECUTE",  "EXISTS",   "FALSE",       "FLOAT",     "FLUSH",        "FOR",
    "FROM",      "FULL",     "GROUP",    "HAVING",      "HISTORY",   "IF",           "IN",
    "INNER",     "INSERT",   "INT",      "INTO",        "IS",        "JOIN",         "JSON",
    "KEY",       "LEFT",     "LIKE",     "LIMIT",       "NAMESPACE", "NAMESPACES",   "NOT",
    "NOTHING",   "NOW",      "NULL",     "OFFSET",      "ON",        "OR",           "ORDER",
    "OUTER",     "PASSWORD", "PRIMARY",  "RENAME",      "RETURNING", "RIGHT",        "ROLE",
    "SELECT",    "SET",      "SHARED",   "SHOW",        "SMALLINT",  "SNOWFLAKE_ID", "STATS",
    "STORAGES",  "STREAM",   "TABLE",    "TABLES",      "TEXT",      "THEN",         "TIME",
    "TIMESTAMP", "TO",       "TRUE",     "TTL_SECONDS", "UNION",     "UPDATE",       "USER",
    "USING",     "UUID",     "VALUES",   "WHEN",        "WHERE",     "WITH"};

bool HasPrefix(std::string_view text, std::string_view prefix) {
  return EqualsIgnoreCase(text.substr(0, std::min(prefix.size(), text.size())), prefix);
}

// Keywords follow the word's case: "sel" gives "select", "SEL" or "Sel" gives "SELECT".
bool TypedInLowerCase(std::string_view word) {
  return !word.empty() && std::none_of(word.begin(), word.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c));
  });
}

std::optional<CatalogNames> FetchNames(Session& session) {
  auto namespaces = session.Execute("SELECT namespace_id FROM system.namespaces");
  auto columns = session.Execute(
      "SELECT table_schema, table_name, column_name FROM information_schema.columns "
      "ORDER BY table_schema, table_name, ordinal_position");
  if (!namespaces.ok() || namespaces->error || !columns.ok() || columns->error) {
    return std::nullopt;
  }
  CatalogNames names;
  for (const auto& result : namespaces->results) {
    for (const auto& row : result.rows) {
      if (!row.empty()) names.namespaces.push_back(row[0].text);
    }
  }
  for (const auto& result : columns->results) {
    for (const auto& row : result.rows) {
      if (row.size() < 3) continue;
      CatalogNames::Column c{row[0].text, row[1].text, row[2].text};
      if (names.tables.empty() || names.tables.back().ns != c.ns ||
          names.tables.back().name != c.table) {
        names.tables.push_back({c.ns, c.table});
      }
      names.columns.push_back(std::move(c));
    }
  }
  return names;
}

}  // namespace

std::vector<std::string> CompletionCandidates(const CatalogNames& names, std::string_view word) {
  std::vector<std::string> out;
  auto offer = [&](const std::string& candidate) {
    if (HasPrefix(candidate, word)) out.push_back(candidate);
  };
  if (word.starts_with('\\')) {
    for (const std::string& name : MetaCommandNames()) offer(name);
  } else if (const size_t dot = word.rfind('.'); dot != std::string_view::npos) {
    const std::string qualifier = Lower(word.substr(0, dot));
    for (const auto& t : names.tables) {
      if (t.ns == qualifier) offer(t.ns + "." + t.name);
    }
    for (const auto& c : names.columns) {
      if (c.table == qualifier) offer(c.table + "." + c.name);
      if (c.ns + "." + c.table == qualifier) offer(qualifier + "." + c.name);
    }
  } else {
    const bool lower = TypedInLowerCase(word);
    for (std::string_view k : kKeywords) offer(lower ? Lower(k) : std::string(k));
    for (const std::string& ns : names.namespaces) offer(ns);
    for (const auto& t : names.tables) offer(t.name);
    for (const auto& c : names.columns) offer(c.name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> Completer::Complete(std::string_view word) {
  if (!names_) {
    names_ = FetchNames(session_);
    // A failure leaves only keywords to offer; the next Tab asks the server again.
    if (!names_) return CompletionCandidates({}, word);
  }
  return CompletionCandidates(*names_, word);
}

}  // namespace kalam::cli
