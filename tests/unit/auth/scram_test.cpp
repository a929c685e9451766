// The SCRAM-SHA-256 exchange against a client written here from RFC 5802: a right proof
// is accepted and answered with the server's signature, a wrong one refused, and
// malformed messages refused as protocol errors.
#include "auth/scram.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/encoding.h"

namespace kalam::auth {
namespace {

std::string Hmac(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string H(const std::string& bytes) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

// The client-final message for password after server_first.
std::string ClientFinal(const std::string& password, const std::string& bare, const std::string& server_first) {
  const auto field = [&](char name) {
    const size_t at = server_first.find(std::string(1, name) + "=");
    return server_first.substr(at + 2, server_first.find(',', at) - at - 2);
  };
  const std::string salt = *Base64Decode(field('s'));
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    std::stoi(field('i')), EVP_sha256(), 32, salted);
  const std::string key(reinterpret_cast<const char*>(salted), 32);
  const std::string without_proof = "c=biws,r=" + field('r');
  const std::string client_key = Hmac(key, "Client Key");
  const std::string signature = Hmac(H(client_key), bare + "," + server_first + "," + without_proof);
  std::string proof = client_key;
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ signature[i]);
  return without_proof + ",p=" + Base64Encode(proof);
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
      EXPECT_TRUE(final->starts_with("v="));
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
}

}  // namespace
}  // namespace kalam::auth
