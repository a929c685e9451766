#include "server_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "common/json_text.h"

namespace kalam::testing {
namespace fs = std::filesystem;

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

pid_t Spawn(const std::string& config_path, const std::string& log_path,
            const std::map<std::string, std::string>& env, const std::string& netns = "") {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!netns.empty()) {
      const int fd = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(126);
    }
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    FILE* log = std::fopen(log_path.c_str(), "a");
    if (log != nullptr) ::dup2(fileno(log), STDERR_FILENO);
    ::execl(KALAMDB_SERVER_BINARY, KALAMDB_SERVER_BINARY, "--config", config_path.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  char pattern[] = "/tmp/kalamdb-test-XXXXXX";
  work_dir_ = ::mkdtemp(pattern);
  data_dir_ = work_dir_ + "/data";
  if (options_.root_password) options_.env.emplace("KALAMDB_ROOT_PASSWORD", kRootPassword);
  // The data directory comes from the environment, so tests may write a [storage] section.
  options_.env["KALAMDB_DATA_PATH"] = data_dir_;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
  std::error_code ec;
  fs::remove_all(work_dir_, ec);
}

std::string ServerProcess::WriteConfig(uint16_t port, uint16_t pg_port) const {
  const std::string path = work_dir_ + "/server.toml";
  std::ofstream out(path, std::ios::trunc);
  out << "[server]\nhost = \"" << host_ << "\"\nport = " << port << "\n"
      << (options_.server_config.find("workers") == std::string::npos ? "workers = 2\n" : "")
      << options_.server_config << "\n"
      << "[auth]\n"
      << (options_.auth_config.find("bcrypt_cost") == std::string::npos ? "bcrypt_cost = 4\n" : "")
      << options_.auth_config << "\n"
      << "[logging]\nlevel = \"info\"\n";
  // Every server gets a free port for the Postgres wire, so servers never contend for 5433.
  const std::string pg_section = "[postgres_wire]\n";
  const std::string pg_port_line = "port = " + std::to_string(pg_port) + "\n";
  std::string extra = options_.extra_config;
  if (const size_t at = extra.find(pg_section); at != std::string::npos) {
    extra.insert(at + pg_section.size(), pg_port_line);
  } else {
    extra += "\n" + pg_section + pg_port_line;
  }
  out << extra << "\n";
  return path;
}

void ServerProcess::Start() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreePort();
    do {
      pg_port_ = FreePort();
    } while (pg_port_ == port_);
    pid_ = Spawn(WriteConfig(port_, pg_port_), work_dir_ + "/server.log", options_.env, netns_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // exited: maybe the port was taken meanwhile; try another
      }
      auto http = Client();
      auto res = http.Send("GET", "/health");
      if (res.ok() && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ > 0) Stop(SIGKILL);
  }
  throw std::runtime_error("kalamdb-server did not start:\n" + log());
}

int ServerProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = WaitExit(pid_);
  pid_ = -1;
  // A server that did not stop cleanly says why in its log: shown with the failing test.
  if (status != 0 && signal == SIGTERM) {
    const std::string text = log();
    std::fprintf(stderr, "kalamdb-server exited with %d after SIGTERM; its log ends:\n%s\n", status,
                 text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
  }
  return status;
}

std::pair<int, std::string> ServerProcess::RunSecondInstance() {
  const std::string log_path = work_dir_ + "/second.log";
  pid_t pid = Spawn(WriteConfig(FreePort(), FreePort()), log_path, options_.env);
  int status = WaitExit(pid);
  return {status, ReadFile(log_path)};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

PsqlRun Psql(uint16_t port, const std::string& user, const std::string& password,
             const std::string& script) {
  char dir_pattern[] = "/tmp/kalamdb-psql-XXXXXX";
  const std::string dir = ::mkdtemp(dir_pattern);
  {
    std::ofstream(dir + "/script.sql") << script;
  }
  const std::string command =
      "PGPASSWORD='" + password + "' PGCONNECT_TIMEOUT=10 timeout 60 psql -X -At -h 127.0.0.1 -p " +
      std::to_string(port) + " -U '" + user + "' -d kalam -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -f " +
      dir + "/script.sql >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(command.c_str());
  PsqlRun run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(dir + "/out"), ReadFile(dir + "/err")};
  std::filesystem::remove_all(dir);
  return run;
}

std::string ServerProcess::log() const { return ReadFile(work_dir_ + "/server.log"); }

std::string SqlResponse::error_code() const {
  const auto* error = body.as_object().if_contains("error");
  if (error == nullptr) return "";
  return std::string(error->at("code").as_string());
}

SqlResponse Sql(client::HttpClient& http, const std::string& authorization,
                const std::string& sql, const std::string& extra_fields,
                const std::string& path) {
  std::string body = "{\"sql\":" + JsonString(sql);
  if (!extra_fields.empty()) body += "," + extra_fields;
  body += "}";
  client::Headers headers;
  if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
  auto res = http.Send("POST", path, body, headers);
  if (!res.ok()) throw std::runtime_error(res.status().message());
  SqlResponse out;
  out.status = res->status;
  out.body = boost::json::parse(res->body);
  return out;
}

namespace {

SqlResponse PostJson(client::HttpClient& http, const std::string& target, const std::string& body) {
  auto res = http.Send("POST", target, body);
  if (!res.ok()) throw std::runtime_error(res.status().message());
  return {res->status, boost::json::parse(res->body)};
}

}  // namespace

SqlResponse LogIn(client::HttpClient& http, const std::string& username,
                  const std::string& password) {
  return PostJson(
      http, "/v1/api/auth/login",
      "{\"username\":" + JsonString(username) + ",\"password\":" + JsonString(password) + "}");
}

SqlResponse Refresh(client::HttpClient& http, const std::string& refresh_token) {
  return PostJson(http, "/v1/api/auth/refresh",
                  "{\"refresh_token\":" + JsonString(refresh_token) + "}");
}

std::string RootAuth() { return client::BasicAuth("root", kRootPassword); }

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}


boost::json::array StartJobAndWait(client::HttpClient& http, const std::string& statement) {
  auto started = Sql(http, RootAuth(), statement);
  EXPECT_EQ(started.status, 200) << boost::json::serialize(started.body);
  if (started.status != 200) return {};
  const std::string job(started.rows().at(0).at(0).as_string());
  boost::json::array row;
  const bool ended = WaitUntil(
      [&] {
        auto r = Sql(http, RootAuth(),
                     "SELECT status, result, error_message FROM system.jobs WHERE job_id = '" + job + "'");
        row = r.rows().at(0).as_array();
        return row.at(0).as_string() != "queued" && row.at(0).as_string() != "running";
      },
      std::chrono::seconds(30));
  if (!ended) ADD_FAILURE() << statement << ": the job did not end";
  return ended ? row : boost::json::array();
}

std::string RunJob(client::HttpClient& http, const std::string& statement) {
  const boost::json::array row = StartJobAndWait(http, statement);
  if (row.empty()) return "not ended";
  EXPECT_EQ(row.at(0).as_string(), "completed") << boost::json::serialize(row);
  return row.at(1).is_null() ? "" : std::string(row.at(1).as_string());
}

}  // namespace kalam::testing
