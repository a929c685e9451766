// The `kalam` binary run against the real server as a user would run it: -c, -f, piped
// input, every output format, failures and their exit status, \login, and the interactive
// mode through a pseudo-terminal.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

int WaitWithTimeout(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class Cli : public ServerTest {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/kalam-cli-test-XXXXXX";
    work_ = ::mkdtemp(pattern);
    home_ = work_ + "/home";
    fs::create_directories(home_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<std::string> AsRoot() const {
    return {"-u", Url(), "--username", "root", "--password", kRootPassword};
  }

  // Starts kalam with HOME in the test's directory, stdin from `input`, and its output
  // going to files that Output() reads.
  pid_t Start(std::vector<std::string> args, const std::string& input = "",
              const std::string& home = "") {
    std::ofstream(work_ + "/stdin", std::ios::trunc) << input;
    args.insert(args.begin(), KALAM_CLI_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string home_dir = home.empty() ? home_ : home;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setenv("HOME", home_dir.c_str(), 1);
      ::unsetenv("NO_COLOR");
      ::dup2(::open((work_ + "/stdin").c_str(), O_RDONLY), STDIN_FILENO);
      ::dup2(::open((work_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
             STDOUT_FILENO);
      ::dup2(::open((work_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
             STDERR_FILENO);
      ::execv(KALAM_CLI_BINARY, argv.data());
      ::_exit(127);
    }
    return pid;
  }
  CliRun Output(int exit_code) const {
    return {exit_code, ReadFile(work_ + "/stdout"), ReadFile(work_ + "/stderr")};
  }
  // Waits until the standard output of the kalam started last holds text.
  bool OutputShows(const std::string& text) const {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      if (ReadFile(work_ + "/stdout").find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  CliRun Run(std::vector<std::string> args, const std::string& input = "",
             const std::string& home = "") {
    const pid_t pid = Start(std::move(args), input, home);
    return Output(WaitWithTimeout(pid, std::chrono::seconds(60)));
  }

  CliRun RunAsRoot(std::vector<std::string> extra, const std::string& input = "") {
    std::vector<std::string> args = AsRoot();
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args, input);
  }

  std::string work_;
  std::string home_;
};

TEST_F(Cli, CommandPrintsAnAlignedTable) {
  CliRun r = RunAsRoot({"-c",
                        "CREATE NAMESPACE cli_table; "
                        "CREATE SHARED TABLE cli_table.items (id BIGINT PRIMARY KEY, name TEXT, "
                        "price DOUBLE); "
                        "INSERT INTO cli_table.items VALUES (1, 'apple', 1.5), (22, NULL, 10);"
                        "SELECT id, name, price FROM cli_table.items ORDER BY id"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("Namespace 'cli_table' created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Inserted 2 row(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" id | name  | price\n"
                       "----+-------+-------\n"
                       "  1 | apple |   1.5\n"
                       " 22 | NULL  |    10\n"
                       "(2 rows)\n"
                       "Time: "),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Count(r.out, "Time: "), 4u) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "no colors when stdout is not a terminal";
}

TEST_F(Cli, JsonAndCsvFormats) {
  ASSERT_EQ(RunAsRoot({"-c",
                       "CREATE NAMESPACE cli_fmt; CREATE SHARED TABLE cli_fmt.t (id BIGINT "
                       "PRIMARY KEY, body TEXT, doc JSON); INSERT INTO cli_fmt.t VALUES "
                       "(9007199254740993, 'a,\"b\"', '{\"k\":[1,2]}'), (2, NULL, NULL)"})
                .exit_code,
            0);
  const std::string select = "SELECT id, body, doc FROM cli_fmt.t ORDER BY id";

  CliRun json = RunAsRoot({"--format", "json", "-c", select});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const boost::json::value parsed = boost::json::parse(json.out);
  const auto& rows = parsed.as_array();
  ASSERT_EQ(rows.size(), 2u) << json.out;
  EXPECT_EQ(rows[0].at("id").as_int64(), 2);
  EXPECT_TRUE(rows[0].at("body").is_null());
  EXPECT_EQ(rows[1].at("id").as_int64(), 9007199254740993);  // every digit
  EXPECT_EQ(rows[1].at("body").as_string(), "a,\"b\"");
  EXPECT_EQ(rows[1].at("doc").at("k").as_array().size(), 2u);  // JSON stays JSON
  EXPECT_EQ(json.out.find("Time:"), std::string::npos);

  CliRun csv = RunAsRoot({"--format", "csv", "-c", select});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out,
            "id,body,doc\n"
            "2,,\n"
            "9007199254740993,\"a,\"\"b\"\"\",\"{\"\"k\"\":[1,2]}\"\n");

  CliRun bad = RunAsRoot({"--format", "xml", "-c", select});
  EXPECT_NE(bad.exit_code, 0);
}

TEST_F(Cli, FileWithStatementsAndMetaCommands) {
  const std::string path = work_ + "/script.sql";
  std::ofstream(path) << "-- a script\n"
                         "CREATE NAMESPACE cli_file;\n"
                         "CREATE USER TABLE cli_file.notes (\n"
                         "  id BIGINT PRIMARY KEY,\n"
                         "  body TEXT  -- a comment; not the end\n"
                         ");\n"
                         "INSERT INTO cli_file.notes VALUES (1, 'one; with a semicolon');\n"
                         "\\dt cli_file\n"
                         "\\d cli_file.notes\n"
                         "\\format csv\n"
                         "SELECT body FROM cli_file.notes\n";
  CliRun r = RunAsRoot({"-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" cli_file     | notes      | user"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" body        | TEXT"), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with("body\none; with a semicolon\n")) << r.out;

  CliRun missing = RunAsRoot({"-f", work_ + "/nope.sql"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing.err;
}

TEST_F(Cli, PipedStdinRunsNonInteractively) {
  CliRun r = RunAsRoot({}, "SELECT 40 +\n  2 AS answer;\n\\timing\nSELECT 'last' AS word");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(" answer\n--------\n     42\n(1 row)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Timing is off."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" word\n------\n last\n(1 row)\n"), std::string::npos) << r.out;
  EXPECT_EQ(Count(r.out, "Time: "), 1u) << r.out;
  EXPECT_EQ(r.out.find("kalam>"), std::string::npos) << "no prompt without a terminal";
}

TEST_F(Cli, FailedStatementStopsWithNonZeroExit) {
  CliRun r =
      RunAsRoot({"-c", "SELECT 'before' AS a; SELECT * FROM cli_fail.nope; SELECT 'after' AS b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("before"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("after"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("ERROR NOT_FOUND: Namespace 'cli_fail' does not exist"), std::string::npos)
      << r.err;

  CliRun piped = RunAsRoot({}, "SELEC 1;\nSELECT 'after' AS b;\n");
  EXPECT_EQ(piped.exit_code, 1);
  EXPECT_NE(piped.err.find("ERROR INVALID_SQL: "), std::string::npos) << piped.err;
  EXPECT_EQ(piped.out.find("after"), std::string::npos) << piped.out;

  CliRun unknown = RunAsRoot({"-c", "\\nonsense"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("unknown command \\nonsense"), std::string::npos) << unknown.err;
}

TEST_F(Cli, UnreachableServerSaysSo) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nobody listens there now
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  CliRun r = Run({"-u", url, "-c", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot reach the server at " + url), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");

  CliRun https = Run({"-u", "https://127.0.0.1:1", "-c", "SELECT 1"});
  EXPECT_EQ(https.exit_code, 2);
  EXPECT_NE(https.err.find("https is not supported"), std::string::npos) << https.err;
}

TEST_F(Cli, WrongCredentialsPrintTheServersError) {
  CliRun r = Run({"-u", Url(), "--username", "root", "--password", "wrong", "-c", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ERROR INVALID_CREDENTIALS: "), std::string::npos) << r.err;
  CliRun token = Run({"-u", Url(), "--token", "not-a-token", "-c", "SELECT 1"});
  EXPECT_EQ(token.exit_code, 1);
  EXPECT_NE(token.err.find("ERROR INVALID_TOKEN: "), std::string::npos) << token.err;
}

TEST_F(Cli, LoginStoresTokensThatLaterRunsUse) {
  CreateUser("cli_alice", "user");
  CliRun login = Run({"-u", Url(), "--username", "cli_alice", "--password", "cli_alice-password",
                      "-c", "\\login"});
  ASSERT_EQ(login.exit_code, 0) << login.out << login.err;
  EXPECT_NE(login.out.find("Logged in as cli_alice (user)"), std::string::npos) << login.out;
  const std::string file = home_ + "/.kalam/credentials";
  EXPECT_EQ(Mode(home_ + "/.kalam"), 0700);
  EXPECT_EQ(Mode(file), 0600);
  const std::string stored = ReadFile(file);
  EXPECT_NE(stored.find("\"access_token\""), std::string::npos);
  EXPECT_EQ(stored.find("cli_alice-password"), std::string::npos) << "no password on disk";

  // No credentials given: the stored token is used, so the caller is cli_alice, who sees
  // only her own row of system.users.
  CliRun query = Run({"-u", Url(), "-c", "SELECT username FROM system.users"});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_NE(query.out.find(" cli_alice\n(1 row)"), std::string::npos) << query.out;
  // Without the stored login, the same command is refused (root's password is not empty).
  CliRun elsewhere = Run({"-u", Url(), "-c", "SELECT 1"}, "", work_);
  EXPECT_EQ(elsewhere.exit_code, 1);
  EXPECT_NE(elsewhere.err.find("INVALID_CREDENTIALS"), std::string::npos) << elsewhere.err;

  // \login asks for what it lacks; here the password comes on standard input.
  CliRun asked = Run({"-u", Url(), "-c", "\\login root"}, std::string(kRootPassword) + "\n");
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  CliRun as_root = Run({"-u", Url(), "--format", "csv", "-c",
                        "SELECT username FROM "
                        "system.users ORDER BY username"});
  EXPECT_NE(as_root.out.find("cli_alice\nroot\n"), std::string::npos) << as_root.out << as_root.err;
  EXPECT_EQ(Mode(file), 0600);

  CliRun refused = Run({"-u", Url(), "-c", "\\login cli_alice"}, "wrong-password\n");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("ERROR INVALID_CREDENTIALS"), std::string::npos) << refused.err;
}

TEST_F(Cli, ExpiredStoredTokenIsRefreshed) {
  ServerOptions options;
  options.auth_config = "access_token_ttl_secs = 1";
  ServerProcess short_lived(options);
  short_lived.Start();
  const std::string url = "http://127.0.0.1:" + std::to_string(short_lived.port());
  ASSERT_EQ(Run({"-u", url, "--username", "root", "--password", kRootPassword, "-c", "\\login"})
                .exit_code,
            0);
  const std::string before = ReadFile(home_ + "/.kalam/credentials");
  // Wait until the server refuses the stored access token as expired.
  const std::string token(
      boost::json::parse(before).at(url).at("access_token").as_string());
  auto http = short_lived.Client();
  ASSERT_TRUE(WaitUntil(
      [&] { return Sql(http, "Bearer " + token, "SELECT 1").error_code() == "TOKEN_EXPIRED"; },
      std::chrono::seconds(10)));
  CliRun r = Run({"-u", url, "-c", "SELECT 'fresh' AS token"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" fresh"), std::string::npos) << r.out;
  const std::string after = ReadFile(home_ + "/.kalam/credentials");
  EXPECT_NE(after, before) << "the refreshed tokens are stored";
  EXPECT_EQ(Mode(home_ + "/.kalam/credentials"), 0600);
}

TEST_F(Cli, HealthFlushAndHelp) {
  CliRun health = RunAsRoot({"-c", "\\health"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_NE(health.out.find(": healthy (version "), std::string::npos) << health.out;

  // The server has no FLUSH yet: the CLI sends it and prints the server's answer.
  ASSERT_EQ(RunAsRoot({"-c", "CREATE NAMESPACE cli_flush; CREATE SHARED TABLE cli_flush.t (x INT)"})
                .exit_code,
            0);
  // (Once it has, the answer is its message.)
  CliRun flush = RunAsRoot({"-c", "\\flush cli_flush.t"});
  if (flush.exit_code == 0) {
    EXPECT_FALSE(flush.out.empty());
  } else {
    EXPECT_EQ(flush.exit_code, 1);
    EXPECT_TRUE(flush.err.starts_with("ERROR ")) << flush.err;
  }
  CliRun usage = RunAsRoot({"-c", "\\flush"});
  EXPECT_EQ(usage.exit_code, 1);
  EXPECT_NE(usage.err.find("usage: \\flush table"), std::string::npos) << usage.err;

  CliRun help = RunAsRoot({"-c", "\\?"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("\\login [username]"), std::string::npos) << help.out;
}

TEST_F(Cli, SubscribeShowsTheRowsThenEachChange) {
  ASSERT_EQ(RunAsRoot({"-c",
                       "CREATE NAMESPACE cli_live; CREATE SHARED TABLE cli_live.feed (id BIGINT "
                       "PRIMARY KEY, body TEXT); INSERT INTO cli_live.feed VALUES (1, 'first')"})
                .exit_code,
            0);
  std::vector<std::string> args = AsRoot();
  args.insert(args.end(), {"-c", "\\subscribe SELECT id, body FROM cli_live.feed"});
  const pid_t pid = Start(args);
  ASSERT_TRUE(OutputShows("(1 row)")) << Output(-1).out << Output(-1).err;
  EXPECT_NE(Output(-1).out.find(" snapshot |  1 | first "), std::string::npos) << Output(-1).out;

  ASSERT_EQ(Root("INSERT INTO cli_live.feed VALUES (2, 'second')").status, 200);
  ASSERT_TRUE(OutputShows(" insert |  2 | second ")) << Output(-1).out;
  ASSERT_EQ(Root("UPDATE cli_live.feed SET body = 'edited' WHERE id = 1").status, 200);
  ASSERT_TRUE(OutputShows(" update |  1 | edited ")) << Output(-1).out;
  ASSERT_EQ(Root("DELETE FROM cli_live.feed WHERE id = 2").status, 200);
  ASSERT_TRUE(OutputShows(" delete |  2 | second ")) << Output(-1).out;

  ::kill(pid, SIGINT);  // Ctrl-C ends the view, not in failure
  CliRun r = Output(WaitWithTimeout(pid, std::chrono::seconds(20)));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Live query stopped."), std::string::npos) << r.err;

  // What the server refuses is printed with its code.
  CliRun refused = RunAsRoot({"-c", "\\subscribe SELECT * FROM system.users"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("ERROR UNSUPPORTED: "), std::string::npos) << refused.err;
  CliRun usage = RunAsRoot({"-c", "\\subscribe"});
  EXPECT_EQ(usage.exit_code, 1);
  EXPECT_NE(usage.err.find("usage: \\subscribe SELECT"), std::string::npos) << usage.err;
}

// The interactive mode, driven through a pseudo-terminal 60 columns wide.
class Terminal {
 public:
  Terminal(const std::vector<std::string>& args, const std::string& home) {
    winsize size{};
    size.ws_row = 24;
    size.ws_col = 60;
    pid_ = ::forkpty(&fd_, nullptr, nullptr, &size);
    if (pid_ == 0) {
      ::setenv("HOME", home.c_str(), 1);
      ::setenv("TERM", "xterm", 1);
      std::vector<std::string> copy = args;
      copy.insert(copy.begin(), KALAM_CLI_BINARY);
      std::vector<char*> argv;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(KALAM_CLI_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }

  void Type(const std::string& keys) {
    ASSERT_EQ(::write(fd_, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }

  // Reads until the output since the last Expect holds `text`; returns that output.
  std::string Expect(const std::string& text) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (seen_.find(text) == std::string::npos && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) break;
      seen_.append(buf, static_cast<size_t>(n));
    }
    const size_t at = seen_.find(text);
    EXPECT_NE(at, std::string::npos) << "waiting for \"" << text << "\" in:\n" << seen_;
    std::string chunk = seen_.substr(0, at == std::string::npos ? seen_.size() : at + text.size());
    seen_.erase(0, chunk.size());
    return chunk;
  }

  int Wait() {
    const int code = WaitWithTimeout(pid_, std::chrono::seconds(20));
    pid_ = -1;
    return code;
  }

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  std::string seen_;
};

// The text without ANSI escape sequences.
std::string Plain(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      continue;
    }
    out += text[i];
  }
  return out;
}

TEST_F(Cli, InteractiveSession) {
  Terminal term(AsRoot(), home_);
  EXPECT_NE(term.Expect("kalam> ").find("Connected to " + Url() + " as root (system)"),
            std::string::npos);

  // A statement across lines: the second prompt says it continues.
  term.Type("SELECT 40 +\r");
  term.Expect("    -> ");
  term.Type("2 AS interactive_answer;\r");
  std::string out = Plain(term.Expect("kalam> "));
  EXPECT_NE(
      out.find(" interactive_answer\r\n--------------------\r\n                 42\r\n(1 row)"),
      std::string::npos)
      << out;

  // A meta-command.
  term.Type("\\dn\r");
  out = Plain(term.Expect("kalam> "));
  EXPECT_NE(out.find(" namespace"), std::string::npos) << out;
  EXPECT_NE(out.find(" default "), std::string::npos) << out;

  // Long values are cut to the terminal's 60 columns; NULL is dimmed.
  term.Type("SELECT repeat('y', 200) AS wide, CAST(NULL AS TEXT) AS nothing;\r");
  out = term.Expect("kalam> ");
  EXPECT_NE(out.find("\x1b[2mNULL\x1b[0m"), std::string::npos) << out;
  out = Plain(out);
  EXPECT_NE(out.find("yyy… | NULL"), std::string::npos) << out;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("yyy") != std::string::npos) {
      size_t width = 0;
      for (char c : line) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80 && c != '\r';
      EXPECT_LE(width, 60u) << line;
    }
  }

  // Tab completes a table name from the server's catalog.
  term.Type("SELECT username FROM system.use\t");
  term.Expect("rs");
  term.Type(" WHERE username = 'root';\r");
  out = Plain(term.Expect("kalam> "));
  EXPECT_NE(out.find(" username\r\n----------\r\n root\r\n(1 row)"), std::string::npos) << out;

  // Ctrl-C drops the statement being typed.
  term.Type("SELECT 'dropped'\r");
  term.Expect("    -> ");
  // As a person would, press it once the editor waits for keys (a signal that arrives
  // while libedit is still setting up the line is only seen at the next read).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  term.Type("\x03");
  term.Expect("kalam> ");
  term.Type("SELECT 'kept' AS k;\r");
  out = Plain(term.Expect("kalam> "));
  EXPECT_NE(out.find(" k\r\n------\r\n kept\r\n(1 row)"), std::string::npos) << out;

  // \login asks for the password without echoing it.
  CreateUser("cli_bob", "user");
  term.Type("\\login cli_bob\r");
  term.Expect("Password for cli_bob: ");
  term.Type("cli_bob-password\r");
  out = Plain(term.Expect("kalam> "));
  EXPECT_NE(out.find("Logged in as cli_bob (user)"), std::string::npos) << out;
  EXPECT_EQ(out.find("cli_bob-password"), std::string::npos) << out;
  term.Type("SELECT username FROM system.users;\r");
  out = Plain(term.Expect("kalam> "));
  EXPECT_NE(out.find(" cli_bob\r\n(1 row)"), std::string::npos) << out;

  // An error is reported and the session goes on.
  term.Type("SELECT * FROM cli_nowhere.t;\r");
  out = Plain(term.Expect("kalam> "));
  EXPECT_NE(out.find("NOT_FOUND: Namespace 'cli_nowhere' does not exist"), std::string::npos)
      << out;

  term.Type("\\q\r");
  EXPECT_EQ(term.Wait(), 0);

  // History: one entry per statement (its lines joined), kept owner-only.
  const std::string history_path = home_ + "/.kalam/history";
  EXPECT_EQ(Mode(history_path), 0600);
  const std::string history = ReadFile(history_path);
  EXPECT_NE(history.find("interactive_answer"), std::string::npos) << history;
  EXPECT_NE(history.find("dn"), std::string::npos) << history;

  // The next session reads it back: Up recalls the last statement before \q.
  Terminal again(AsRoot(), home_);
  again.Expect("kalam> ");
  again.Type("\x1b[A\x1b[A\r");  // Up twice: past "\q" to the failing SELECT
  out = Plain(again.Expect("kalam> "));
  EXPECT_NE(out.find("cli_nowhere"), std::string::npos) << out;
  // Ctrl-D ends the session. Like Ctrl-C above, pressed once the editor waits for keys: the
  // terminal drops an end-of-file typed while libedit is still switching its mode.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  again.Type("\x04");
  EXPECT_EQ(again.Wait(), 0);
}

}  // namespace
}  // namespace kalam::testing
