#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "common/encoding.h"

namespace kalam::auth {
namespace {

constexpr std::string_view kSecret = "test-secret-0123456789";
constexpr int64_t kNow = 1'700'000'000;

TokenClaims AccessClaims() {
  return {.sub = "u_42",
          .username = "alice",
          .role = "dba",
          .typ = "access",
          .iat = kNow,
          .exp = kNow + 3600,
          .ver = 3,
          .jti = {},
          .fam = {}};
}

// A token with any header and payload, correctly HS256-signed, so a test can show that a
// rejection comes from what the token says and not from its signature.
std::string SignedToken(std::string_view header_json, std::string_view payload_json,
                        std::string_view secret = kSecret) {
  std::string token = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &mac_size);
  return token + "." + Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), mac_size));
}

constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::string_view kFullPayload =
    R"({"sub":"u_1","username":"bob","role":"user","typ":"refresh","iat":1700000000,"exp":1700003600,"ver":0,"jti":"j1","fam":"f1"})";

TEST(JwtTest, RoundTripsClaims) {
  const std::string token = SignToken(AccessClaims(), kSecret);
  const Result<TokenClaims> claims = VerifyToken(token, kSecret, kNow + 10);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->sub, "u_42");
  EXPECT_EQ(claims->username, "alice");
  EXPECT_EQ(claims->role, "dba");
  EXPECT_EQ(claims->typ, "access");
  EXPECT_EQ(claims->iat, kNow);
  EXPECT_EQ(claims->exp, kNow + 3600);
  EXPECT_EQ(claims->ver, 3);
  EXPECT_EQ(claims->jti, "");  // access tokens carry neither id nor family
  EXPECT_EQ(claims->fam, "");
}

TEST(JwtTest, RoundTripsRefreshIds) {
  TokenClaims refresh = AccessClaims();
  refresh.typ = "refresh";
  refresh.jti = "0123abcd";
  refresh.fam = "f00d";
  const Result<TokenClaims> claims = VerifyToken(SignToken(refresh, kSecret), kSecret, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->jti, "0123abcd");
  EXPECT_EQ(claims->fam, "f00d");
}

TEST(JwtTest, HeaderIsHs256Jwt) {
  const std::string token = SignToken(AccessClaims(), kSecret);
  const std::string header(token.substr(0, token.find('.')));
  EXPECT_EQ(Base64UrlDecode(header), R"({"alg":"HS256","typ":"JWT"})");
}

// The signature must equal what any other HS256 implementation computes.
TEST(JwtTest, VerifiesTokenSignedElsewhere) {
  const Result<TokenClaims> claims =
      VerifyToken(SignedToken(kHs256Header, kFullPayload), kSecret, kNow);
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->username, "bob");
  EXPECT_EQ(claims->typ, "refresh");
}

// The middle part of a dot-separated token.
std::string PayloadPart(const std::string& token) {
  const size_t first = token.find('.');
  return token.substr(first + 1, token.rfind('.') - first - 1);
}

TEST(JwtTest, RefusesTamperedPayload) {
  const std::string token = SignToken(AccessClaims(), kSecret);
  TokenClaims escalated = AccessClaims();
  escalated.role = "system";
  const std::string forged_payload = PayloadPart(SignToken(escalated, kSecret));
  // Well-formed claims, so only the signature can refuse them.
  ASSERT_TRUE(Base64UrlDecode(forged_payload).has_value());
  const std::string tampered =
      token.substr(0, token.find('.') + 1) + forged_payload + token.substr(token.rfind('.'));
  ASSERT_NE(tampered, token);

  const Result<TokenClaims> claims = VerifyToken(tampered, kSecret, kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().code(), Code::kInvalidToken);
}

TEST(JwtTest, RefusesTamperedSignature) {
  std::string token = SignToken(AccessClaims(), kSecret);
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(VerifyToken(token, kSecret, kNow).status().code(), Code::kInvalidToken);
  // Cut short, or with the signature dropped.
  const std::string good = SignToken(AccessClaims(), kSecret);
  EXPECT_EQ(VerifyToken(good.substr(0, good.size() - 1), kSecret, kNow).status().code(),
            Code::kInvalidToken);
  EXPECT_EQ(VerifyToken(good.substr(0, good.rfind('.') + 1), kSecret, kNow).status().code(),
            Code::kInvalidToken);
}

TEST(JwtTest, RefusesWrongSecret) {
  const std::string token = SignToken(AccessClaims(), kSecret);
  const Result<TokenClaims> claims = VerifyToken(token, "another-secret", kNow);
  ASSERT_FALSE(claims.ok());
  EXPECT_EQ(claims.status().code(), Code::kInvalidToken);
}

TEST(JwtTest, ExpiredTokenIsTokenExpired) {
  const std::string token = SignToken(AccessClaims(), kSecret);
  EXPECT_TRUE(VerifyToken(token, kSecret, kNow + 3599).ok());
  const Result<TokenClaims> at_exp = VerifyToken(token, kSecret, kNow + 3600);
  ASSERT_FALSE(at_exp.ok());
  EXPECT_EQ(at_exp.status().code(), Code::kTokenExpired);
  EXPECT_EQ(VerifyToken(token, kSecret, kNow + 100'000).status().code(), Code::kTokenExpired);
}

TEST(JwtTest, ExpiryIsNotCheckedBeforeSignature) {
  // A forged expired token must say INVALID_TOKEN, not reveal that it merely expired.
  const std::string token = SignToken(AccessClaims(), kSecret);
  EXPECT_EQ(VerifyToken(token, "another-secret", kNow + 100'000).status().code(),
            Code::kInvalidToken);
}

TEST(JwtTest, RefusesAlgNone) {
  const std::string header = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = Base64UrlEncode(kFullPayload);
  const Result<TokenClaims> unsigned_token =
      VerifyToken(header + "." + payload + ".", kSecret, kNow);
  ASSERT_FALSE(unsigned_token.ok());
  EXPECT_EQ(unsigned_token.status().code(), Code::kInvalidToken);

  // Even with a valid HS256 signature over it, a header that says "none" is refused.
  EXPECT_EQ(VerifyToken(SignedToken(R"({"alg":"none","typ":"JWT"})", kFullPayload), kSecret, kNow)
                .status()
                .code(),
            Code::kInvalidToken);
}

TEST(JwtTest, RefusesOtherAlgorithms) {
  for (const std::string_view header :
       {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"RS256"})", R"({"alg":"hs256"})",
        R"({"typ":"JWT"})", R"({"alg":256})", R"(["HS256"])"}) {
    EXPECT_EQ(VerifyToken(SignedToken(header, kFullPayload), kSecret, kNow).status().code(),
              Code::kInvalidToken)
        << header;
  }
}

TEST(JwtTest, RefusesMissingOrMistypedClaims) {
  for (
      const std::string_view payload : {
          R"({"username":"bob","role":"user","typ":"access","iat":1,"exp":1800000000,"ver":0})",
          R"({"sub":"u_1","role":"user","typ":"access","iat":1,"exp":1800000000,"ver":0})",
          R"({"sub":"u_1","username":"bob","typ":"access","iat":1,"exp":1800000000,"ver":0})",
          R"({"sub":"u_1","username":"bob","role":"user","iat":1,"exp":1800000000,"ver":0})",
          R"({"sub":"u_1","username":"bob","role":"user","typ":"access","exp":1800000000,"ver":0})",
          R"({"sub":"u_1","username":"bob","role":"user","typ":"access","iat":1,"ver":0})",
          R"({"sub":"u_1","username":"bob","role":"user","typ":"access","iat":1,"exp":"1800000000","ver":0})",
          R"({"sub":1,"username":"bob","role":"user","typ":"access","iat":1,"exp":1800000000,"ver":0})",
          R"({"sub":"u_1","username":"bob","role":"user","typ":"access","iat":1,"exp":1.5,"ver":0})",
          R"({"sub":"u_1","username":"bob","role":"user","typ":"access","iat":1,"exp":1800000000})",
          R"({"sub":"u_1","username":"bob","role":"user","typ":"access","iat":1,"exp":1800000000,"ver":"0"})",
          R"(["not an object"])",
          R"(not json)",
      }) {
    EXPECT_EQ(VerifyToken(SignedToken(kHs256Header, payload), kSecret, kNow).status().code(),
              Code::kInvalidToken)
        << payload;
  }
}

TEST(JwtTest, RefusesGarbage) {
  for (const std::string_view garbage : {"", ".", "..", "...", "abc", "a.b", "a.b.c", "a.b.c.d",
                                         "!!!.???.***", "eyJhbGciOiJIUzI1NiJ9..", "Bearer xyz"}) {
    const Result<TokenClaims> claims = VerifyToken(garbage, kSecret, kNow);
    ASSERT_FALSE(claims.ok()) << garbage;
    EXPECT_EQ(claims.status().code(), Code::kInvalidToken) << garbage;
  }
  // A good token with an extra part.
  const std::string token = SignToken(AccessClaims(), kSecret);
  EXPECT_EQ(VerifyToken(token + ".x", kSecret, kNow).status().code(), Code::kInvalidToken);
}

TEST(JwtTest, GeneratesFreshHexSecrets) {
  const std::string secret = GenerateSecret();
  EXPECT_EQ(secret.size(), 64u);
  EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos) << secret;
  EXPECT_NE(secret, GenerateSecret());
}

}  // namespace
}  // namespace kalam::auth
