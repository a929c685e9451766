// Guessing passwords is throttled and can't slow down everyone else: failed sign-ins per user
// name and per client address lead to 429 RATE_LIMIT_EXCEEDED for one window (root from
// loopback excepted), and bcrypt runs on threads of its own, so a flood of wrong passwords
// leaves statements answered. Through the real server.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "client/ws_client.h"
#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

ServerOptions Throttled(int per_user, int per_address) {
  ServerOptions options;
  options.auth_config = "max_failed_logins_per_user = " + std::to_string(per_user) +
                        "\nmax_failed_logins_per_address = " + std::to_string(per_address) +
                        "\nfailed_login_window_secs = 2\n";
  return options;
}

// The status and error code of a login.
std::pair<int, std::string> TryLogIn(client::HttpClient& http, const std::string& user,
                                     const std::string& password) {
  const SqlResponse answer = LogIn(http, user, password);
  return {answer.status, answer.error_code()};
}

const std::pair<int, std::string> kOk{200, ""};
const std::pair<int, std::string> kWrong{401, "INVALID_CREDENTIALS"};
const std::pair<int, std::string> kThrottled{429, "RATE_LIMIT_EXCEEDED"};

// Polls until user signs in with the right password again: the window has passed.
void ExpectSignInAgain(client::HttpClient& http, const std::string& user) {
  std::pair<int, std::string> last;
  EXPECT_TRUE(
      WaitUntil([&] { return (last = TryLogIn(http, user, user + "-password")) == kOk; }, 15s))
      << user << ": " << last.first << " " << last.second;
}

void CreateUsers(client::HttpClient& http, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto r = Sql(
        http, RootAuth(),
        std::string("CREATE USER '") + name + "' WITH PASSWORD '" + name + "-password' ROLE user");
    ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  }
}

// The auth_error code (or "" on success) of a WebSocket basic sign-in.
std::string WsSignIn(const ServerProcess& server, const std::string& user,
                     const std::string& password) {
  client::WsClient ws;
  if (!ws.Connect("127.0.0.1", server.port()).ok()) return "no connection";
  (void)ws.Send(R"({"type":"authenticate","method":"basic","username":")" + user +
                R"(","password":")" + password + "\"}");
  auto text = ws.Receive(5000ms);
  if (!text) return "no answer";
  const json::value m = json::parse(*text);
  if (m.at("type").as_string() == "auth_success") return "";
  return std::string(m.at("code").as_string());
}

TEST(SignInLimits, AUserIsRefusedAfterTooManyFailuresUntilTheWindowPasses) {
  ServerProcess server(Throttled(3, 1000));
  server.Start();
  auto http = server.Client();
  CreateUsers(http, {"victim", "bystander"});

  // A success forgets the failures before it.
  EXPECT_EQ(TryLogIn(http, "victim", "wrong-password"), kWrong);
  EXPECT_EQ(TryLogIn(http, "victim", "wrong-password"), kWrong);
  EXPECT_EQ(TryLogIn(http, "victim", "victim-password"), kOk);
  EXPECT_EQ(TryLogIn(http, "victim", "wrong-password"), kWrong);
  EXPECT_EQ(TryLogIn(http, "victim", "wrong-password"), kWrong);
  // Wrong Basic credentials count alike.
  EXPECT_EQ(Sql(http, client::BasicAuth("victim", "wrong-password"), "SELECT 1").error_code(),
            "INVALID_CREDENTIALS");

  // Three failures: refused, whatever the password and however it is sent.
  EXPECT_EQ(TryLogIn(http, "victim", "wrong-password"), kThrottled);
  EXPECT_EQ(TryLogIn(http, "victim", "victim-password"), kThrottled);
  auto basic = Sql(http, client::BasicAuth("victim", "victim-password"), "SELECT 1");
  EXPECT_EQ(basic.status, 429);
  EXPECT_EQ(basic.error_code(), "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(WsSignIn(server, "victim", "victim-password"), "RATE_LIMIT_EXCEEDED");
  // Only that user: others sign in.
  EXPECT_EQ(TryLogIn(http, "bystander", "bystander-password"), kOk);

  // Once the window has passed, the right password works again.
  ExpectSignInAgain(http, "victim");
  EXPECT_EQ(WsSignIn(server, "victim", "victim-password"), "");
}

TEST(SignInLimits, AnAddressIsRefusedAfterTooManyFailuresButNotRootFromLoopback) {
  ServerProcess server(Throttled(1000, 4));
  server.Start();
  auto http = server.Client();
  CreateUsers(http, {"carol", "dave"});

  // Four failures from this address, over several names, real or not.
  EXPECT_EQ(TryLogIn(http, "carol", "wrong-password"), kWrong);
  EXPECT_EQ(TryLogIn(http, "nobody-1", "wrong-password"), kWrong);
  EXPECT_EQ(TryLogIn(http, "nobody-2", "wrong-password"), kWrong);
  EXPECT_EQ(WsSignIn(server, "nobody-3", "wrong-password"), "UNAUTHORIZED");

  EXPECT_EQ(TryLogIn(http, "dave", "dave-password"), kThrottled);
  EXPECT_EQ(Sql(http, client::BasicAuth("dave", "dave-password"), "SELECT 1").status, 429);
  // root from a loopback address is never locked out, nor are its failures counted.
  EXPECT_EQ(TryLogIn(http, "root", kRootPassword), kOk);
  EXPECT_EQ(Sql(http, RootAuth(), "SELECT 1").status, 200);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(TryLogIn(http, "root", "wrong-password"), kWrong) << i;
  EXPECT_EQ(TryLogIn(http, "root", kRootPassword), kOk);

  ExpectSignInAgain(http, "dave");
}

TEST(SignInLimits, RootFromLoopbackIsNeverThrottledByName) {
  ServerProcess server(Throttled(2, 1000));
  server.Start();
  auto http = server.Client();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Sql(http, client::BasicAuth("root", "wrong-password"), "SELECT 1").error_code(),
              "INVALID_CREDENTIALS")
        << i;
  }
  EXPECT_EQ(Sql(http, RootAuth(), "SELECT 1").status, 200);
}

// Twelve clients sending wrong Basic passwords (bcrypt at cost 12, nothing throttled) keep
// the password threads busy; a signed-in user's statements don't wait for them.
TEST(SignInLimits, AFloodOfWrongPasswordsDoesNotHoldUpStatements) {
  ServerOptions options;
  options.auth_config =
      "bcrypt_cost = 12\nmax_failed_logins_per_user = 0\nmax_failed_logins_per_address = 0\n";
  ServerProcess server(options);
  server.Start();
  auto http = server.Client();
  CreateUsers(http, {"reader", "target"});
  const SqlResponse login = LogIn(http, "reader", "reader-password");
  ASSERT_EQ(login.status, 200);
  const std::string bearer = "Bearer " + std::string(login.body.at("access_token").as_string());

  std::atomic<bool> stop = false;
  std::atomic<int> refused = 0;
  std::vector<std::thread> flood;
  for (int i = 0; i < 12; ++i) {
    flood.emplace_back([&, i] {
      auto own = server.Client();
      const auto give_up = Clock::now() + 60s;  // bounded, whatever happens
      for (int n = 0; !stop && Clock::now() < give_up; ++n) {
        auto r =
            own.Send("POST", "/v1/api/sql", R"({"sql":"SELECT 1"})",
                     {{"Authorization",
                       client::BasicAuth("target", "wrong-" + std::to_string(i * 100000 + n))}});
        if (r.ok() && r->status != 200) ++refused;
      }
    });
  }
  // The flood is under way once wrong passwords are being refused.
  EXPECT_TRUE(WaitUntil([&] { return refused >= 12; }, 30s));
  std::vector<double> millis;
  for (int i = 0; i < 10; ++i) {
    const auto start = Clock::now();
    auto r = Sql(http, bearer, "SELECT 1");
    millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    EXPECT_EQ(r.status, 200);
  }
  stop = true;
  for (auto& t : flood) t.join();
  std::sort(millis.begin(), millis.end());
  // Without threads of its own, bcrypt fills the query pool and each SELECT waits for
  // several hashes (over a second here); with them, it waits for none.
  EXPECT_LT(millis[5], 250) << "median of SELECT 1 during the flood, ms";
  EXPECT_LT(millis.back(), 1000) << "slowest SELECT 1 during the flood, ms";
}

}  // namespace
}  // namespace kalam::testing
