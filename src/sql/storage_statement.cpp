#include "sql/storage_statement.h"

#include <algorithm>
#include <vector>

#include "sql/lexer.h"

namespace kalam::sql {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class Reader {
 public:
  explicit Reader(std::string_view sql) : tokens_(Tokenize(sql)) {}

  bool Word(std::string_view word) {
    const Token& t = tokens_[pos_];
    if (t.kind == TokenKind::kWord && Upper(t.text) == word) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    while (tokens_[pos_].kind == TokenKind::kSymbol && tokens_[pos_].text == ";") ++pos_;
    return tokens_[pos_].kind == TokenKind::kEnd;
  }
  Result<std::string> Identifier(const char* what) {
    const Token& t = tokens_[pos_];
    if (t.kind == TokenKind::kWord) {
      ++pos_;
      return Lower(t.text);
    }
    if (t.kind == TokenKind::kQuotedIdentifier || t.kind == TokenKind::kString) {
      ++pos_;
      return t.text;
    }
    return Status(Code::kInvalidSql, std::string("Expected ") + what);
  }
  Result<std::string> String(const std::string& what) {
    const Token& t = tokens_[pos_];
    if (t.kind != TokenKind::kString) {
      return Status(Code::kInvalidSql, "Expected a quoted value after " + what);
    }
    ++pos_;
    return t.text;
  }
  std::string Next() const { return tokens_[pos_].kind == TokenKind::kEnd ? "the end" : "'" + tokens_[pos_].text + "'"; }

 private:
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::optional<StorageStatement>> ParseStorageStatement(std::string_view sql) {
  Reader r(sql);
  if (r.Word("CREATE")) {
    if (!r.Word("STORAGE")) return std::optional<StorageStatement>();
    CreateStorage s;
    if (r.Word("IF")) {
      if (!r.Word("NOT") || !r.Word("EXISTS")) return Status(Code::kInvalidSql, "Expected IF NOT EXISTS");
      s.if_not_exists = true;
    }
    auto id = r.Identifier("a storage id after CREATE STORAGE");
    if (!id.ok()) return id.status();
    s.id = *id;
    bool has_type = false, has_name = false, has_base = false;
    while (!r.AtEnd()) {
      std::string* target = nullptr;
      std::string clause;
      if (r.Word("TYPE")) {
        target = &s.type, clause = "TYPE", has_type = true;
      } else if (r.Word("NAME")) {
        target = &s.name, clause = "NAME", has_name = true;
      } else if (r.Word("DESCRIPTION")) {
        target = &s.description, clause = "DESCRIPTION";
      } else if (r.Word("BASE_DIRECTORY")) {
        target = &s.base_directory, clause = "BASE_DIRECTORY", has_base = true;
      } else if (r.Word("SHARED_TABLES_TEMPLATE")) {
        auto v = r.String("SHARED_TABLES_TEMPLATE");
        if (!v.ok()) return v.status();
        s.shared_tables_template = *v;
        continue;
      } else if (r.Word("USER_TABLES_TEMPLATE")) {
        auto v = r.String("USER_TABLES_TEMPLATE");
        if (!v.ok()) return v.status();
        s.user_tables_template = *v;
        continue;
      } else {
        return Status(Code::kInvalidSql, "Unexpected " + r.Next() + " in CREATE STORAGE");
      }
      auto v = r.String(clause);
      if (!v.ok()) return v.status();
      *target = *v;
    }
    if (!has_type || !has_name || !has_base) {
      return Status(Code::kInvalidSql, "CREATE STORAGE needs TYPE, NAME and BASE_DIRECTORY");
    }
    return std::optional<StorageStatement>(std::move(s));
  }
  if (r.Word("ALTER")) {
    if (!r.Word("STORAGE")) return std::optional<StorageStatement>();
    AlterStorage a;
    auto id = r.Identifier("a storage id after ALTER STORAGE");
    if (!id.ok()) return id.status();
    a.id = *id;
    if (!r.Word("SET")) return Status(Code::kInvalidSql, "Expected SET after ALTER STORAGE " + a.id);
    for (const char* field : {"NAME", "DESCRIPTION", "SHARED_TABLES_TEMPLATE", "USER_TABLES_TEMPLATE"}) {
      if (r.Word(field)) {
        a.field = Lower(field);
        break;
      }
    }
    if (a.field.empty()) {
      return Status(Code::kInvalidSql,
                    "ALTER STORAGE sets NAME, DESCRIPTION, SHARED_TABLES_TEMPLATE or USER_TABLES_TEMPLATE");
    }
    auto v = r.String(Upper(a.field));
    if (!v.ok()) return v.status();
    a.value = *v;
    if (!r.AtEnd()) return Status(Code::kInvalidSql, "Unexpected " + r.Next() + " in ALTER STORAGE");
    return std::optional<StorageStatement>(std::move(a));
  }
  if (r.Word("DROP")) {
    if (!r.Word("STORAGE")) return std::optional<StorageStatement>();
    DropStorage d;
    if (r.Word("IF")) {
      if (!r.Word("EXISTS")) return Status(Code::kInvalidSql, "Expected IF EXISTS");
      d.if_exists = true;
    }
    auto id = r.Identifier("a storage id after DROP STORAGE");
    if (!id.ok()) return id.status();
    d.id = *id;
    if (!r.AtEnd()) return Status(Code::kInvalidSql, "Unexpected " + r.Next() + " in DROP STORAGE");
    return std::optional<StorageStatement>(std::move(d));
  }
  return std::optional<StorageStatement>();
}

}  // namespace kalam::sql
