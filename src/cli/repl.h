// The interactive mode: libedit line editing, statements that end with ';' across lines,
// history in ~/.kalam/history, Tab completion from the server's catalog.
#pragma once

#include "cli/shell.h"

namespace kalam::cli {

// Reads and runs input until \q, quit, exit or end of input (Ctrl-D). Failed statements
// are reported and the loop goes on.
void RunRepl(Shell& shell);

}  // namespace kalam::cli
