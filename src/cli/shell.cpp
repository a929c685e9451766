#include "cli/shell.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/text.h"
#include "cli/meta_commands.h"
#include "cli/spinner.h"
#include "cli/statement_buffer.h"
#include "cli/terminal.h"

namespace kalam::cli {

namespace {

// CREATE, DROP and ALTER change what completion offers.
bool ChangesSchema(std::string_view sql) {
  const size_t end = sql.find_first_of(" \t\r\n(");
  const std::string word = Upper(sql.substr(0, end));
  return word == "CREATE" || word == "DROP" || word == "ALTER";
}

bool StartsMetaCommand(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  return first != std::string_view::npos && line[first] == '\\';
}

}  // namespace

Shell::Shell(Session& session, ShellOptions options)
    : session_(session), options_(std::move(options)) {}

Outcome Shell::RunStatement(const std::string& sql) {
  RenderOptions render = options_.render;
  if (options_.fit_terminal) render.max_width = TerminalWidth(STDOUT_FILENO);
  std::cout.flush();

  const auto start = std::chrono::steady_clock::now();
  Result<SqlReply> reply = [&] {
    Spinner spinner(options_.spinner, stdout);
    return session_.Execute(sql);
  }();
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;

  if (!reply.ok()) {
    PrintProblem(reply.status().message());
    return Outcome::kUnreachable;
  }
  for (const StatementResult& result : reply->results) Print(Render(result, render));
  if (ChangesSchema(sql) && on_schema_change_) on_schema_change_();
  if (reply->error) {
    PrintError(reply->error->code, reply->error->message);
    return Outcome::kFailed;
  }
  if (options_.timing && render.format == OutputFormat::kTable) {
    Print(fmt::format("Time: {:.2f} ms\n", elapsed.count()));
  }
  return Outcome::kOk;
}

Outcome Shell::RunMetaCommand(std::string_view line) {
  return ExecuteMetaCommand(*this, ParseMetaCommand(line));
}

Outcome Shell::RunScript(std::istream& in) {
  StatementBuffer buffer;
  std::string line;
  while (!quit_ && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Outcome outcome = Outcome::kOk;
    if (buffer.empty() && StartsMetaCommand(line)) {
      buffer.Clear();
      outcome = RunMetaCommand(line);
    } else {
      for (const std::string& sql : buffer.AddLine(line)) {
        outcome = RunStatement(sql);
        if (outcome != Outcome::kOk) break;
      }
    }
    if (outcome != Outcome::kOk) return outcome;
  }
  if (quit_) return Outcome::kOk;
  const std::string rest = buffer.TakeRest();
  return rest.empty() ? Outcome::kOk : RunStatement(rest);
}

void Shell::Print(std::string_view text) {
  std::cout << text;
  std::cout.flush();
}

void Shell::PrintError(std::string_view code, std::string_view message) {
  std::cout.flush();
  if (options_.error_color) {
    std::cerr << "\x1b[31mERROR\x1b[0m " << code << ": " << message << "\n";
  } else {
    std::cerr << "ERROR " << code << ": " << message << "\n";
  }
}

void Shell::PrintProblem(std::string_view message) {
  std::cout.flush();
  std::cerr << "kalam: " << message << "\n";
}

void Shell::PrintNote(std::string_view message) {
  std::cout.flush();
  std::cerr << message << "\n";
}

std::optional<std::string> Shell::Ask(const std::string& prompt, bool secret) const {
  if (!prompter_) return std::nullopt;
  return prompter_(prompt, secret);
}

}  // namespace kalam::cli
