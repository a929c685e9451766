// kalam: the KalamDB command-line client (docs/cli.md). Interactive at a terminal; with -c, -f
// or piped input it runs the statements and exits: 0 when all succeeded, 1 after a failed
// statement or command, 2 when the server can't be reached.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/credential_store.h"
#include "cli/repl.h"
#include "cli/session.h"
#include "cli/shell.h"
#include "cli/terminal.h"

namespace {

using namespace kalam::cli;

int ExitCode(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return 0;
    case Outcome::kFailed:
      return 1;
    case Outcome::kUnreachable:
      return 2;
  }
  return 1;
}

// Without --token or --username: the stored \login for this server, else root with the
// given (or an empty) password, which a server without a root password accepts on loopback.
Credentials ChooseCredentials(const ServerAddress& address, const std::string& username,
                              const std::optional<std::string>& password,
                              const std::string& token) {
  Credentials credentials;
  if (!token.empty()) {
    credentials.access_token = token;
    credentials.username = username;
  } else if (!username.empty()) {
    credentials.username = username;
    if (password) {
      credentials.password = *password;
    } else if (IsTerminal(STDIN_FILENO)) {
      credentials.password = ReadSecret("Password for " + username + ": ").value_or("");
    }
  } else if (auto stored = CredentialStore().Load(address.url); stored && !password) {
    credentials = {stored->username, "", stored->access_token, stored->refresh_token, true};
  } else {
    credentials.username = "root";
    credentials.password = password.value_or("");
  }
  return credentials;
}

// Prompts of \login outside the REPL read lines from standard input, like the script does.
std::optional<std::string> AskOnStdin(const std::string& prompt, bool secret) {
  if (secret && IsTerminal(STDIN_FILENO)) return ReadSecret(prompt);
  if (IsTerminal(STDIN_FILENO)) std::cerr << prompt << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  return line;
}

int Interactive(Shell& shell) {
  Session& session = shell.session();
  auto who = session.WhoAmI();
  if (!who.ok()) {
    shell.PrintProblem(who.status().message());
    return ExitCode(Outcome::kUnreachable);
  }
  if (who->error) {
    shell.PrintError(who->error->code, who->error->message);
    shell.Print("Connected to " + session.address().url +
                ", not logged in: use \\login, or --username/--password or --token.\n");
  } else {
    shell.Print("Connected to " + session.address().url + " as " + who->username + " (" +
                who->role + ").\n");
  }
  shell.Print("Type \\? for help, \\q to quit. Statements end with ';'.\n");
  RunRepl(shell);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kalam: the KalamDB command-line client"};
  std::string url = "http://127.0.0.1:8080";
  std::string username;
  std::optional<std::string> password;
  std::string token;
  std::string command;
  std::string file;
  std::string format = "table";
  bool no_color = false;
  app.add_option("-u,--url", url, "The server's URL")->capture_default_str();
  app.add_option("--username", username, "Log in with this username (Basic authentication)");
  auto* password_option = app.add_option("--password", password, "The user's password");
  app.add_option("--token", token, "An access token (Bearer authentication)")
      ->excludes(password_option);
  auto* command_option =
      app.add_option("-c,--command", command, "Run these statements (';' between them), exit");
  app.add_option("-f,--file", file, "Run the statements of FILE, exit")->excludes(command_option);
  app.add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  app.add_flag("--no-color", no_color, "No colors (also when NO_COLOR is set)");
  CLI11_PARSE(app, argc, argv);

  auto address = ParseServerUrl(url);
  if (!address.ok()) {
    std::cerr << "kalam: " << address.status().message() << "\n";
    return 2;
  }
  Session session(*address, ChooseCredentials(*address, username, password, token),
                  CredentialStore());

  const bool color = !no_color && std::getenv("NO_COLOR") == nullptr;
  ShellOptions options;
  options.render.format = *ParseOutputFormat(format);
  options.render.color = color && IsTerminal(STDOUT_FILENO);
  options.error_color = color && IsTerminal(STDERR_FILENO);
  options.fit_terminal = IsTerminal(STDOUT_FILENO);
  options.spinner = IsTerminal(STDOUT_FILENO);
  Shell shell(session, options);

  if (app.count("--command") > 0) {
    shell.set_prompter(AskOnStdin);
    std::istringstream in(command);
    return ExitCode(shell.RunScript(in));
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "kalam: cannot read " << file << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    shell.set_prompter(AskOnStdin);
    return ExitCode(shell.RunScript(in));
  }
  if (!IsTerminal(STDIN_FILENO)) {
    shell.set_prompter(AskOnStdin);
    return ExitCode(shell.RunScript(std::cin));
  }
  return Interactive(shell);
}
