#include "auth/password.h"

#include <gtest/gtest.h>

#include <string>

namespace kalam::auth {
namespace {

constexpr int kFastCost = 4;  // the lowest bcrypt allows; real servers use 12

TEST(ValidatePasswordTest, AcceptsEightToSeventyTwoBytes) {
  EXPECT_TRUE(ValidatePassword(std::string(8, 'k')).ok());
  EXPECT_TRUE(ValidatePassword(std::string(72, 'a')).ok());
}

TEST(ValidatePasswordTest, RefusesTooShortTooLongAndNul) {
  const Status short_status = ValidatePassword(std::string(7, 'a'));
  EXPECT_EQ(short_status.code(), Code::kInvalidSql);
  EXPECT_NE(short_status.message().find("at least 8"), std::string::npos);

  const Status long_status = ValidatePassword(std::string(73, 'a'));
  EXPECT_EQ(long_status.code(), Code::kInvalidSql);
  EXPECT_NE(long_status.message().find("at most 72"), std::string::npos);

  EXPECT_EQ(ValidatePassword(std::string("password\0x", 10)).code(), Code::kInvalidSql);
  EXPECT_EQ(ValidatePassword("").code(), Code::kInvalidSql);
}

TEST(HashPasswordTest, MakesSaltedBcryptHashThatVerifies) {
  const Result<std::string> hash = HashPassword("correct horse", kFastCost);
  ASSERT_TRUE(hash.ok()) << hash.status().message();
  EXPECT_TRUE(hash->starts_with("$2b$04$")) << *hash;
  EXPECT_EQ(hash->size(), 60u);
  EXPECT_TRUE(VerifyPassword("correct horse", *hash));
  EXPECT_FALSE(VerifyPassword("correct horsE", *hash));
  EXPECT_FALSE(VerifyPassword("correct hors", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));

  const Result<std::string> again = HashPassword("correct horse", kFastCost);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again) << "each hash must get a fresh salt";
  EXPECT_TRUE(VerifyPassword("correct horse", *again));
}

TEST(HashPasswordTest, RefusesBadCostAndNul) {
  EXPECT_EQ(HashPassword("password", 3).status().code(), Code::kInvalidInput);
  EXPECT_EQ(HashPassword("password", 32).status().code(), Code::kInvalidInput);
  EXPECT_FALSE(HashPassword(std::string("pass\0word", 9), kFastCost).ok());
}

TEST(VerifyPasswordTest, RefusesNulThatWouldTruncate) {
  const Result<std::string> hash = HashPassword("password", kFastCost);
  ASSERT_TRUE(hash.ok());
  // libcrypt sees C strings: "password\0anything" must not pass as "password".
  EXPECT_FALSE(VerifyPassword(std::string("password\0anything", 17), *hash));
}

TEST(VerifyPasswordTest, FalseOnMalformedOrForeignHash) {
  EXPECT_FALSE(VerifyPassword("password", ""));
  EXPECT_FALSE(VerifyPassword("password", "not a hash"));
  EXPECT_FALSE(VerifyPassword("password", "$2b$04$short"));
  EXPECT_FALSE(
      VerifyPassword("password", "$2b$99$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01"));
  // A valid MD5-crypt hash of "password": only bcrypt is accepted.
  EXPECT_FALSE(VerifyPassword("password", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"));

  const Result<std::string> hash = HashPassword("password", kFastCost);
  ASSERT_TRUE(hash.ok());
  std::string tampered = *hash;
  tampered[40] = tampered[40] == 'a' ? 'b' : 'a';  // inside the checksum
  EXPECT_FALSE(VerifyPassword("password", tampered));
  EXPECT_FALSE(VerifyPassword("password", hash->substr(0, hash->size() - 1)));
}

// Openwall crypt_blowfish's published vector: hashes made elsewhere verify too, and the
// older $2a$ prefix is still accepted.
TEST(VerifyPasswordTest, AcceptsPublishedVector) {
  const std::string hash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
  EXPECT_TRUE(VerifyPassword("U*U", hash));
  EXPECT_FALSE(VerifyPassword("U*V", hash));
}

}  // namespace
}  // namespace kalam::auth

namespace kalam::auth {
namespace {

TEST(ValidatePasswordTest, RefusesWhitespaceAndCommonPasswordsInAnyCase) {
  EXPECT_EQ(ValidatePassword("        ").code(), Code::kInvalidSql);
  EXPECT_EQ(ValidatePassword("\t \n    ").code(), Code::kInvalidSql);
  for (const char* common : {"password", "PASSWORD", "12345678", "Qwerty123", "iloveyou"}) {
    EXPECT_EQ(ValidatePassword(common).code(), Code::kInvalidSql) << common;
  }
  EXPECT_TRUE(ValidatePassword("correct horse battery").ok());
  EXPECT_TRUE(ValidatePassword(" padded password ").ok());
}

TEST(ValidatePasswordTest, MinimumLengthIsConfigurable) {
  EXPECT_EQ(ValidatePassword("x7!kq2#m", 12).code(), Code::kInvalidSql);
  EXPECT_TRUE(ValidatePassword("x7!kq2#m9pz$", 12).ok());
  EXPECT_TRUE(ValidatePassword("x7!kq", 4).ok());
  // Past bcrypt's 72 bytes the minimum can't be met: it is held at 72.
  EXPECT_TRUE(ValidatePassword(std::string(72, 'z'), 500).ok());
}

}  // namespace
}  // namespace kalam::auth
