#include "cli/meta_commands.h"

#include "cli/live_view.h"

namespace kalam::cli {

namespace {

constexpr std::string_view kHelp = R"(Meta-commands:
  \q                    quit (also: quit, exit, Ctrl-D)
  \?                    this help
  \dn                   list namespaces               (SHOW NAMESPACES)
  \dt [namespace]       list tables                   (SHOW TABLES [IN namespace])
  \d table              describe a table              (DESCRIBE TABLE table)
  \format [table|json|csv]  show or set the output format
  \timing [on|off]      show the time each statement takes (toggles without argument)
  \flush table          flush a table to storage      (FLUSH TABLE table)
  \health               ask the server whether it is healthy
  \login [username]     log in; the tokens are kept in ~/.kalam/credentials and used
                        by later runs of kalam on this server
  \subscribe SELECT ... live view: the rows that match, then each change with its
                        type, until Ctrl-C
SQL statements end with ';' and may span lines.
)";

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == ';')) {
    text.remove_suffix(1);
  }
  return text;
}

Outcome Usage(Shell& shell, std::string_view usage) {
  shell.PrintProblem("usage: " + std::string(usage));
  return Outcome::kFailed;
}

Outcome SetFormat(Shell& shell, const std::string& name) {
  OutputFormat& format = shell.options().render.format;
  if (name.empty()) {
    shell.Print("Output format is " + std::string(OutputFormatName(format)) + ".\n");
    return Outcome::kOk;
  }
  const auto parsed = ParseOutputFormat(name);
  if (!parsed) return Usage(shell, "\\format table|json|csv");
  format = *parsed;
  shell.Print("Output format is " + name + ".\n");
  return Outcome::kOk;
}

Outcome SetTiming(Shell& shell, const std::string& value) {
  bool& timing = shell.options().timing;
  if (value.empty()) {
    timing = !timing;
  } else if (value == "on" || value == "off") {
    timing = value == "on";
  } else {
    return Usage(shell, "\\timing [on|off]");
  }
  shell.Print(timing ? "Timing is on.\n" : "Timing is off.\n");
  return Outcome::kOk;
}

Outcome ShowHealth(Shell& shell) {
  Session& session = shell.session();
  auto health = session.CheckHealth();
  if (!health.ok()) {
    shell.PrintProblem(health.status().message());
    return Outcome::kUnreachable;
  }
  shell.Print("Server at " + session.address().url + ": " + health->status + " (version " +
              health->version + ", API " + health->api_version + ")\n");
  return health->status == "healthy" ? Outcome::kOk : Outcome::kFailed;
}

// The username comes from the argument, else from --username; the password from
// --password when it belongs to that user; whatever is missing is asked for.
Outcome Login(Shell& shell, const std::string& argument) {
  Session& session = shell.session();
  const Credentials& given = session.credentials();
  std::string username = argument.empty() ? given.username : argument;
  if (username.empty()) {
    auto typed = shell.Ask("Username: ", false);
    if (!typed || typed->empty()) {
      shell.PrintProblem("\\login needs a username (\\login name, or --username)");
      return Outcome::kFailed;
    }
    username = *typed;
  }
  std::string password;
  if (username == given.username && given.access_token.empty() && !given.password.empty()) {
    password = given.password;
  } else {
    auto typed = shell.Ask("Password for " + username + ": ", true);
    if (!typed) {
      shell.PrintProblem("\\login needs a password (--password, or run it at a terminal)");
      return Outcome::kFailed;
    }
    password = *typed;
  }
  auto who = session.Login(username, password);
  if (!who.ok()) {
    shell.PrintProblem(who.status().message());
    return Outcome::kUnreachable;
  }
  if (who->error) {
    shell.PrintError(who->error->code, who->error->message);
    return Outcome::kFailed;
  }
  if (Status stored = session.StoreLogin(); !stored.ok()) {
    shell.PrintProblem("logged in, but the tokens were not kept: " + stored.message());
    return Outcome::kFailed;
  }
  shell.Print("Logged in as " + who->username + (who->role.empty() ? "" : " (" + who->role + ")") +
              "; the tokens are kept in " + session.store().path() + ".\n");
  return Outcome::kOk;
}

}  // namespace

MetaCommand ParseMetaCommand(std::string_view line) {
  line = Trim(line);
  if (!line.empty() && line.front() == '\\') line.remove_prefix(1);
  const size_t end = line.find_first_of(" \t");
  MetaCommand command;
  command.name = std::string(line.substr(0, end));
  if (end != std::string_view::npos) command.argument = std::string(Trim(line.substr(end)));
  return command;
}

Outcome ExecuteMetaCommand(Shell& shell, const MetaCommand& command) {
  const std::string& name = command.name;
  const std::string& arg = command.argument;
  if (name == "q" || name == "quit") {
    shell.RequestQuit();
    return Outcome::kOk;
  }
  if (name == "?" || name == "h" || name == "help") {
    shell.Print(MetaCommandHelp());
    return Outcome::kOk;
  }
  if (name == "dn") return shell.RunStatement("SHOW NAMESPACES");
  if (name == "dt" || (name == "d" && arg.empty())) {
    return shell.RunStatement(arg.empty() ? "SHOW TABLES" : "SHOW TABLES IN " + arg);
  }
  if (name == "d") return shell.RunStatement("DESCRIBE TABLE " + arg);
  if (name == "format") return SetFormat(shell, arg);
  if (name == "timing") return SetTiming(shell, arg);
  if (name == "flush") {
    if (arg.empty()) return Usage(shell, "\\flush table");
    return shell.RunStatement("FLUSH TABLE " + arg);
  }
  if (name == "health") return ShowHealth(shell);
  if (name == "login") return Login(shell, arg);
  if (name == "subscribe") return RunLiveView(shell, arg);
  shell.PrintProblem("unknown command \\" + name + "; \\? lists the commands");
  return Outcome::kFailed;
}

const std::vector<std::string>& MetaCommandNames() {
  static const std::vector<std::string> names = {"\\q",      "\\?",      "\\dn",       "\\dt",
                                                 "\\d",      "\\format", "\\timing",   "\\flush",
                                                 "\\health", "\\login",  "\\subscribe"};
  return names;
}

std::string_view MetaCommandHelp() { return kHelp; }

}  // namespace kalam::cli
