// The backslash commands of the CLI (\q, \dn, \dt, \d, \format, \timing, \flush, \health,
// \login, ...). Most of them are SQL the server already speaks; they are shortcuts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/shell.h"

namespace kalam::cli {

struct MetaCommand {
  std::string name;      // without the backslash: "dt"
  std::string argument;  // the rest, trimmed, without a trailing ';'
};

// REQUIRES: line starts with '\' (after blanks).
MetaCommand ParseMetaCommand(std::string_view line);

Outcome ExecuteMetaCommand(Shell& shell, const MetaCommand& command);

// "\q", "\dn", ...: what completion offers after a backslash.
const std::vector<std::string>& MetaCommandNames();
// The text of \?.
std::string_view MetaCommandHelp();

}  // namespace kalam::cli
