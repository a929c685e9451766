// Runs what the user typed — SQL statements and meta-commands — against a session and
// prints the outcome. The REPL, `-c`, `-f` and piped input all go through it.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>

#include "cli/output_format.h"
#include "cli/session.h"

namespace kalam::cli {

struct ShellOptions {
  RenderOptions render;
  bool fit_terminal = false;  // cut tables to the width of the terminal on stdout
  bool timing = true;         // "Time: 1.23 ms" after each statement (table format)
  bool spinner = false;       // a spinner while a statement runs (stdout is a terminal)
  bool error_color = false;   // errors in red (stderr is a terminal)
};

enum class Outcome {
  kOk,
  kFailed,       // the server refused a statement, or a command failed
  kUnreachable,  // the server can't be reached
};

// Asks the person at the keyboard (\login's username and password). nullopt when there is
// nobody to ask or the input ended.
using Prompter = std::function<std::optional<std::string>(const std::string& prompt, bool secret)>;

class Shell {
 public:
  Shell(Session& session, ShellOptions options);

  // One statement (no trailing ';' needed); prints its rows or message, or its error.
  Outcome RunStatement(const std::string& sql);
  // One line that starts with '\' (see meta_commands.h).
  Outcome RunMetaCommand(std::string_view line);
  // Statements ending with ';' (the last one may lack it) and meta-command lines between
  // them, as -c, -f and piped input give them. Stops at the first failure or \q.
  Outcome RunScript(std::istream& in);

  void Print(std::string_view text);  // to stdout
  void PrintError(std::string_view code, std::string_view message);
  void PrintProblem(std::string_view message);  // a local problem: "kalam: ..." on stderr
  void PrintNote(std::string_view message);     // a remark on stderr, kept out of the output

  std::optional<std::string> Ask(const std::string& prompt, bool secret) const;
  void set_prompter(Prompter prompter) { prompter_ = std::move(prompter); }
  // Called after a statement that may change tables or namespaces (completion reloads).
  void set_on_schema_change(std::function<void()> f) { on_schema_change_ = std::move(f); }

  void RequestQuit() { quit_ = true; }
  bool quit_requested() const { return quit_; }
  ShellOptions& options() { return options_; }
  Session& session() { return session_; }

 private:
  Session& session_;
  ShellOptions options_;
  Prompter prompter_;
  std::function<void()> on_schema_change_;
  bool quit_ = false;
};

}  // namespace kalam::cli
