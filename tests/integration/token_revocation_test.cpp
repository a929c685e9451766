// Tokens stop working when they should: a password change, a role change and DROP USER
// revoke every token of the user, and a refresh token refreshes once — presenting an
// already rotated one revokes every token of the user. Through the real server.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "server_process.h"

namespace kalam::testing {
namespace {

namespace json = boost::json;

struct Tokens {
  std::string access;
  std::string refresh;
};

Tokens TokensOf(const SqlResponse& answer) {
  if (answer.status != 200) throw std::runtime_error(json::serialize(answer.body));
  return {std::string(answer.body.at("access_token").as_string()),
          std::string(answer.body.at("refresh_token").as_string())};
}

Tokens SignIn(client::HttpClient& http, const std::string& user, const std::string& password) {
  return TokensOf(LogIn(http, user, password));
}

class TokenRevocation : public ServerTest {
 protected:
  // The status and error code of SELECT 1 with the access token.
  std::pair<int, std::string> Use(const Tokens& tokens) {
    auto r = Sql(http_, "Bearer " + tokens.access, "SELECT 1");
    return {r.status, r.error_code()};
  }
  void ExpectRevoked(const Tokens& tokens, const char* after) {
    EXPECT_EQ(Use(tokens), std::make_pair(401, std::string("INVALID_TOKEN"))) << after;
    const SqlResponse refreshed = Refresh(http_, tokens.refresh);
    EXPECT_EQ(refreshed.status, 401) << after;
    EXPECT_EQ(refreshed.error_code(), "INVALID_TOKEN") << after;
  }
};

TEST_F(TokenRevocation, APasswordChangeRevokesAccessAndRefreshTokens) {
  CreateUser("rev_pw", "user");
  const Tokens first = SignIn(http_, "rev_pw", "rev_pw-password");
  const Tokens second = SignIn(http_, "rev_pw", "rev_pw-password");  // another session
  ASSERT_EQ(Use(first).first, 200);

  // Changed with the token itself: that token goes too.
  auto changed = Sql(http_, "Bearer " + first.access,
                     "ALTER USER 'rev_pw' SET PASSWORD 'rev_pw-new-password'");
  ASSERT_EQ(changed.status, 200) << json::serialize(changed.body);
  ExpectRevoked(first, "own password change");
  ExpectRevoked(second, "own password change, other session");

  const Tokens fresh = SignIn(http_, "rev_pw", "rev_pw-new-password");
  EXPECT_EQ(Use(fresh).first, 200);
  // And by an administrator.
  ASSERT_EQ(Root("ALTER USER 'rev_pw' SET PASSWORD 'rev_pw-password'").status, 200);
  ExpectRevoked(fresh, "password changed by root");
}

TEST_F(TokenRevocation, ARoleChangeRevokesTokensAndAnEmailChangeDoesNot) {
  CreateUser("rev_role", "user");
  const Tokens tokens = SignIn(http_, "rev_role", "rev_role-password");
  ASSERT_EQ(Root("ALTER USER 'rev_role' SET EMAIL 'rev@example.com'").status, 200);
  EXPECT_EQ(Use(tokens).first, 200);

  ASSERT_EQ(Root("ALTER USER 'rev_role' SET ROLE service").status, 200);
  ExpectRevoked(tokens, "role change");
  const Tokens fresh = SignIn(http_, "rev_role", "rev_role-password");
  auto me = http_.Send("GET", "/v1/api/auth/me", "", {{"Authorization", "Bearer " + fresh.access}});
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(json::parse(me->body).at("role").as_string(), "service");
}

TEST_F(TokenRevocation, DropUserRevokesTokensAndARecreatedUserGetsNoneOfThem) {
  CreateUser("rev_drop", "user");
  const Tokens tokens = SignIn(http_, "rev_drop", "rev_drop-password");
  ASSERT_EQ(Root("DROP USER 'rev_drop'").status, 200);
  ExpectRevoked(tokens, "drop");

  CreateUser("rev_drop", "user");  // the same name, the same password: a new user
  ExpectRevoked(tokens, "drop and re-create");
  EXPECT_EQ(Use(SignIn(http_, "rev_drop", "rev_drop-password")).first, 200);
}

TEST_F(TokenRevocation, ARefreshTokenRefreshesOnceAndItsReuseRevokesEverything) {
  CreateUser("rev_reuse", "user");
  const Tokens other_session = SignIn(http_, "rev_reuse", "rev_reuse-password");
  const Tokens first = SignIn(http_, "rev_reuse", "rev_reuse-password");

  const Tokens second = TokensOf(Refresh(http_, first.refresh));
  const Tokens third = TokensOf(Refresh(http_, second.refresh));
  EXPECT_EQ(Use(third).first, 200);
  EXPECT_EQ(Use(first).first, 200);  // access tokens live on while nothing was reused

  // The first refresh token again: somebody copied it. Refused, and with it the newest token
  // of its family, the access tokens, and the user's other session.
  const SqlResponse reused = Refresh(http_, first.refresh);
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(reused.error_code(), "INVALID_TOKEN");
  ExpectRevoked(third, "reuse: the newest of the family");
  ExpectRevoked(first, "reuse: the first access token");
  ExpectRevoked(other_session, "reuse: the other session");

  // Signing in again works.
  const Tokens again = SignIn(http_, "rev_reuse", "rev_reuse-password");
  EXPECT_EQ(Use(again).first, 200);
  EXPECT_EQ(Refresh(http_, again.refresh).status, 200);
}

// What the rotation knows is kept with the user: a restart forgets none of it.
TEST(TokenRevocationAcrossRestart, RotatedTokensStayRotated) {
  ServerProcess server;
  server.Start();
  auto http = server.Client();
  ASSERT_EQ(
      Sql(http, RootAuth(), "CREATE USER 'kept' WITH PASSWORD 'kept-password' ROLE user").status,
      200);
  const Tokens first = SignIn(http, "kept", "kept-password");
  const Tokens second = TokensOf(Refresh(http, first.refresh));
  const Tokens revoked = SignIn(http, "kept", "kept-password");
  ASSERT_EQ(Sql(http, RootAuth(), "ALTER USER 'kept' SET PASSWORD 'kept-password-2'").status, 200);

  ASSERT_EQ(server.Stop(), 0);
  server.Start();
  http = server.Client();
  EXPECT_EQ(Sql(http, "Bearer " + revoked.access, "SELECT 1").error_code(), "INVALID_TOKEN");
  EXPECT_EQ(Refresh(http, second.refresh).error_code(), "INVALID_TOKEN");

  const Tokens fresh = SignIn(http, "kept", "kept-password-2");
  const Tokens rotated = TokensOf(Refresh(http, fresh.refresh));
  ASSERT_EQ(server.Stop(), 0);
  server.Start();
  http = server.Client();
  EXPECT_EQ(Sql(http, "Bearer " + rotated.access, "SELECT 1").status, 200);
  EXPECT_EQ(Refresh(http, fresh.refresh).error_code(),
            "INVALID_TOKEN");  // rotated before the restart
  EXPECT_EQ(Refresh(http, rotated.refresh).error_code(), "INVALID_TOKEN");  // so all revoked
}

}  // namespace
}  // namespace kalam::testing
