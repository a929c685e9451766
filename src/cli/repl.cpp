#include "cli/repl.h"

// libedit's readline-compatible API; it needs <cstdio> first.
#include <editline/readline.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "cli/completion.h"
#include "cli/credential_store.h"
#include "cli/statement_buffer.h"
#include "cli/terminal.h"

namespace kalam::cli {

namespace {

constexpr const char* kPrompt = "kalam> ";
constexpr const char* kContinuationPrompt = "    -> ";
constexpr int kHistorySize = 1000;
// Words for completion end at these; '.' and '\' are part of words ("app.messages", "\dt").
char kWordBreaks[] = " \t\n\"'`@$><=;|&{(),*+-/%";

Completer* g_completer = nullptr;  // the one the libedit callbacks below consult

char* NextMatch(const char* text, int state) {
  static std::vector<std::string> matches;
  static size_t next = 0;
  if (state == 0) {
    matches = g_completer->Complete(text);
    next = 0;
  }
  return next < matches.size() ? ::strdup(matches[next++].c_str()) : nullptr;
}

char** AttemptCompletion(const char* text, int /*start*/, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  return rl_completion_matches(text, NextMatch);
}

std::string Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// History holds SQL (passwords of CREATE USER too): the file is the owner's only.
class History {
 public:
  History() : path_(KalamDir() + "/history") {
    using_history();
    stifle_history(kHistorySize);
    if (EnsureKalamDir().ok()) {
      usable_ = true;
      read_history(path_.c_str());
    }
  }

  void Add(const std::string& entry) {
    if (entry.empty()) return;
    add_history(entry.c_str());
    if (!usable_) return;
    write_history(path_.c_str());
    ::chmod(path_.c_str(), 0600);
  }

 private:
  std::string path_;
  bool usable_ = false;
};

volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

// Reads a line; Ctrl-C makes readline() return NULL with `interrupted` set. Only at the
// prompt: while a statement runs, Ctrl-C ends kalam as usual (the server has no way to
// cancel a statement).
std::optional<std::string> ReadLine(const char* prompt, bool* interrupted = nullptr) {
  struct sigaction on_interrupt {};
  on_interrupt.sa_handler = OnInterrupt;
  struct sigaction saved {};
  ::sigaction(SIGINT, &on_interrupt, &saved);
  g_interrupted = 0;
  std::unique_ptr<char, decltype(&std::free)> line(readline(prompt), &std::free);
  ::sigaction(SIGINT, &saved, nullptr);
  if (interrupted != nullptr) *interrupted = g_interrupted != 0;
  if (!line) return std::nullopt;
  return std::string(line.get());
}

}  // namespace

void RunRepl(Shell& shell) {
  Completer completer(shell.session());
  g_completer = &completer;
  shell.set_on_schema_change([&completer] { completer.Invalidate(); });
  shell.set_prompter([](const std::string& prompt, bool secret) {
    return secret ? ReadSecret(prompt) : ReadLine(prompt.c_str());
  });
  rl_readline_name = "kalam";
  rl_attempted_completion_function = AttemptCompletion;
  rl_basic_word_break_characters = kWordBreaks;
  rl_completer_word_break_characters = kWordBreaks;

  History history;
  StatementBuffer buffer;
  std::string entry;  // the lines of the statement being typed, for history
  while (!shell.quit_requested()) {
    bool interrupted = false;
    const std::optional<std::string> line =
        ReadLine(buffer.empty() ? kPrompt : kContinuationPrompt, &interrupted);
    if (!line) {
      std::fputs("\n", stdout);
      if (!interrupted) break;  // end of input
      buffer.Clear();           // Ctrl-C drops the statement being typed
      entry.clear();
      continue;
    }
    const std::string trimmed = Trim(*line);
    if (buffer.empty()) {
      if (trimmed.empty()) continue;
      if (trimmed.front() == '\\') {
        buffer.Clear();
        history.Add(trimmed);
        shell.RunMetaCommand(trimmed);
        continue;
      }
      if (trimmed == "quit" || trimmed == "exit") break;
    }
    if (!trimmed.empty()) entry += entry.empty() ? trimmed : " " + trimmed;
    const std::vector<std::string> statements = buffer.AddLine(*line);
    if (statements.empty()) continue;
    history.Add(entry);
    entry.clear();
    for (const std::string& sql : statements) shell.RunStatement(sql);
  }
  g_completer = nullptr;
}

}  // namespace kalam::cli
