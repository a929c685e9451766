// Runs the real kalamdb-server binary for a test: a free port, a temporary data
// directory, root's password from the environment, and a low bcrypt cost for speed.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "client/http_client.h"

namespace kalam::testing {

inline constexpr const char* kRootPassword = "root-secret-1";

struct ServerOptions {
  std::string auth_config;   // lines for the [auth] section
  // TOML appended to the generated configuration (other sections). A [postgres_wire]
  // section here gets the port line the generated configuration would have had.
  std::string extra_config;
  std::map<std::string, std::string> env;
  bool root_password = true;  // set KALAMDB_ROOT_PASSWORD
  std::string server_config;  // lines for the [server] section
};

class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();

  // Before Start: the server listens on host ([server] host), where tests reach it, inside
  // the network namespace netns (a name under /var/run/netns).
  void PlaceIn(std::string host, std::string netns) {
    host_ = std::move(host);
    netns_ = std::move(netns);
  }
  // Starts the server and waits until /health answers. Throws on failure.
  void Start();
  // Sends signal and waits; returns the exit status (or 128+signal when killed).
  int Stop(int signal = 15);
  // Starts a second process on the same data directory and returns its exit status
  // and standard error, without waiting for health (for lock tests).
  std::pair<int, std::string> RunSecondInstance();

  uint16_t port() const { return port_; }
  uint16_t pg_port() const { return pg_port_; }  // the Postgres wire listener's
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;  // the server's standard error so far
  client::HttpClient Client() const { return client::HttpClient(host_, port_); }

 private:
  std::string WriteConfig(uint16_t port, uint16_t pg_port) const;

  ServerOptions options_;
  std::string host_ = "127.0.0.1";
  std::string netns_;  // empty: the test's own
  std::string work_dir_;
  std::string data_dir_;
  uint16_t port_ = 0;
  uint16_t pg_port_ = 0;
  pid_t pid_ = -1;
};

// The response of POST /v1/api/sql (or another route answering JSON), parsed.
struct SqlResponse {
  int status = 0;
  boost::json::value body;

  const boost::json::object& result(size_t i) const {
    return body.at("results").as_array().at(i).as_object();
  }
  const boost::json::array& rows(size_t i = 0) const { return result(i).at("rows").as_array(); }
  std::string error_code() const;
};

SqlResponse Sql(client::HttpClient& http, const std::string& authorization,
                const std::string& sql, const std::string& extra_fields = "",
                const std::string& path = "/v1/api/sql");

// POST /v1/api/auth/login (and POST /v1/api/auth/refresh), the answer parsed.
SqlResponse LogIn(client::HttpClient& http, const std::string& username,
                  const std::string& password);
SqlResponse Refresh(client::HttpClient& http, const std::string& refresh_token);

std::string RootAuth();

// A TCP port on the loopback address that was free a moment ago.
uint16_t FreePort();

// A file's whole content ("" when it can't be read).
std::string ReadFile(const std::string& path);

// What psql did with a script.
struct PsqlRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs script with psql (Debian's postgresql-client) as user against the Postgres wire on
// 127.0.0.1:port (-X: no ~/.psqlrc; -At: rows only, unaligned; errors with their SQLSTATE;
// ON_ERROR_STOP so a failed statement ends the script with exit code 3).
PsqlRun Psql(uint16_t port, const std::string& user, const std::string& password, const std::string& script);

// Polls condition until it holds or the deadline passes, and says whether it held. Tests
// wait for an outcome this way, never by sleeping a guessed time and then asserting: as
// fast as the server is, and not flaky when the machine is busy.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline);

// Runs a statement that starts one job (FLUSH TABLE, STORAGE COMPACT TABLE) as root and
// waits for the job to end: its system.jobs row (status, result, error_message), or an
// empty array (and a test failure) when it did not start or end.
boost::json::array StartJobAndWait(client::HttpClient& http, const std::string& statement);
// The same, expecting the job completed: its result JSON ("" if none).
std::string RunJob(client::HttpClient& http, const std::string& statement);

}  // namespace kalam::testing

#include <gtest/gtest.h>

namespace kalam::testing {

// One server for all tests of a suite; each test gets its own keep-alive connection.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  SqlResponse Root(const std::string& sql, const std::string& extra = "") {
    return Sql(http_, RootAuth(), sql, extra);
  }
  SqlResponse As(const std::string& user, const std::string& sql, const std::string& extra = "") {
    return Sql(http_, client::BasicAuth(user, user + "-password"), sql, extra);
  }
  // Creates a user whose password is "<name>-password".
  void CreateUser(const std::string& name, const std::string& role) {
    auto r = Root("CREATE USER IF NOT EXISTS '" + name + "' WITH PASSWORD '" + name +
                  "-password' ROLE " + role);
    ASSERT_EQ(r.status, 200) << boost::json::serialize(r.body);
  }

  static inline ServerProcess* server_ = nullptr;
  client::HttpClient http_ = server_->Client();
};

}  // namespace kalam::testing
