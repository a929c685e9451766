// The SCRAM-SHA-256 exchange against the tests' client, written from RFC 5802
// (tests/support/scram_client.h): a right proof is accepted and answered with the server's
// signature, a wrong one refused, and malformed messages refused as protocol errors.
#include "auth/scram.h"

#include <gtest/gtest.h>

#include "../../support/scram_client.h"
#include "common/encoding.h"

namespace kalam::auth {
namespace {

// The client-final message for password after server_first.
std::string ClientFinal(const std::string& password, const std::string& bare, const std::string& server_first) {
  return kalam::testing::ScramClientFinal(password, bare, server_first).message;
}

TEST(ScramTest, ARightProofIsAcceptedAndAWrongOneRefused) {
  const auto verifier = ParseScramVerifier(MakeScramVerifier("pencil-case"));
  ASSERT_TRUE(verifier.has_value());
  EXPECT_EQ(verifier->iterations, kScramIterations);
  for (const std::string password : {"pencil-case", "pencil-casf"}) {
    ScramExchange exchange(*verifier);
    const std::string bare = "n=,r=rOprNGfwEbeRWgbNEkqO";
    auto server_first = exchange.Start("n,," + bare);
    ASSERT_TRUE(server_first.ok());
    EXPECT_TRUE(server_first->starts_with("r=rOprNGfwEbeRWgbNEkqO")) << "the client's nonce comes first";
    auto final = exchange.Finish(ClientFinal(password, bare, *server_first));
    if (password == "pencil-case") {
      ASSERT_TRUE(final.ok()) << final.status().message();
      EXPECT_EQ(*final, "v=" + kalam::testing::ScramClientFinal(password, bare, *server_first).server_signature);
    } else {
      EXPECT_EQ(final.status().code(), Code::kInvalidCredentials);
    }
  }
}

TEST(ScramTest, MalformedMessagesAndChannelBindingAreProtocolErrors) {
  const auto verifier = *ParseScramVerifier(MakeScramVerifier("pencil-case"));
  for (const std::string first : {"", "x", "p=tls-server-end-point,,n=,r=abc", "n,,m=ext,r=abc", "n,,n=", "n"}) {
    ScramExchange exchange(verifier);
    EXPECT_EQ(exchange.Start(first).status().code(), Code::kProtocol) << first;
  }
  ScramExchange exchange(verifier);
  ASSERT_TRUE(exchange.Start("n,,n=,r=abc").ok());
  const std::vector<std::string> finals = {"", "c=biws,r=abc,p=AAAA", "c=eSws,r=abc",
                                           "c=biws,r=other,p=" + Base64Encode(std::string(32, 'x'))};
  for (const std::string& final : finals) {
    EXPECT_EQ(exchange.Finish(final).status().code(), Code::kProtocol) << final;
  }
  EXPECT_FALSE(ParseScramVerifier("$2b$10$bcrypt").has_value());
  EXPECT_FALSE(ParseScramVerifier("SCRAM-SHA-256$x:AAAA$AAAA:AAAA").has_value());
}

TEST(ScramTest, MockVerifiersAreStablePerNameAndMatchNoPassword) {
  const ScramVerifier a = MockScramVerifier("ghost", "secret");
  EXPECT_EQ(a.salt, MockScramVerifier("ghost", "secret").salt);
  EXPECT_NE(a.salt, MockScramVerifier("ghost2", "secret").salt);
  for (const std::string password : {"", "secret", "ghost", "pencil-case"}) {
    ScramExchange exchange(a);
    const std::string bare = "n=,r=abc";
    auto server_first = exchange.Start("n,," + bare);
    ASSERT_TRUE(server_first.ok());
    EXPECT_EQ(exchange.Finish(ClientFinal(password, bare, *server_first)).status().code(), Code::kInvalidCredentials)
        << password;
  }
}

}  // namespace
}  // namespace kalam::auth
