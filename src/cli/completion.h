// Tab completion: SQL keywords, meta-commands, and the namespaces, tables and columns the
// caller can see (from system.namespaces and information_schema.columns).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/session.h"

namespace kalam::cli {

struct CatalogNames {
  struct Table {
    std::string ns;
    std::string name;
  };
  struct Column {
    std::string ns;
    std::string table;
    std::string name;
  };
  std::vector<std::string> namespaces;
  std::vector<Table> tables;
  std::vector<Column> columns;
};

// What may complete `word`, the text before the cursor back to the last blank or
// operator, sorted and without duplicates:
// - "\d..."  meta-commands;
// - "ns.t..." the tables of namespace ns; "t.c..." / "ns.t.c..." the columns of table t;
// - otherwise keywords (in the case the word is typed in), namespaces, tables and columns.
std::vector<std::string> CompletionCandidates(const CatalogNames& names, std::string_view word);

// Fetches the names once and again after Invalidate() (a statement changed the schema).
class Completer {
 public:
  explicit Completer(Session& session) : session_(session) {}

  std::vector<std::string> Complete(std::string_view word);
  void Invalidate() { names_.reset(); }

 private:
  Session& session_;
  std::optional<CatalogNames> names_;
};

}  // namespace kalam::cli
