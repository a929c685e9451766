#include "common/encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace kalam {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64Test, EncodesRfcVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, DecodesPaddedAndUnpadded) {
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYg"), "foob");
  EXPECT_EQ(Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64Decode(""), "");
  // An Authorization: Basic credential.
  EXPECT_EQ(Base64Decode("cm9vdDpzZWNyZXQ="), "root:secret");
}

TEST(Base64Test, RejectsMalformedInput) {
  EXPECT_EQ(Base64Decode("Zm9v!"), std::nullopt);   // outside the alphabet
  EXPECT_EQ(Base64Decode("Zm9v-_"), std::nullopt);  // URL-safe characters
  EXPECT_EQ(Base64Decode("Zm9vY"), std::nullopt);   // a length no encoder makes
  EXPECT_EQ(Base64Decode("Zg=="
                         "Zg=="),
            std::nullopt);                       // padding in the middle
  EXPECT_EQ(Base64Decode("Zg="), std::nullopt);  // padding short of a full group
  EXPECT_EQ(Base64Decode("Z==="), std::nullopt);
  EXPECT_EQ(Base64Decode("===="), std::nullopt);
  EXPECT_EQ(Base64Decode("Zh=="), std::nullopt);  // non-zero bits after the last byte
  EXPECT_EQ(Base64Decode("Zm9 v"), std::nullopt);
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t length = 0; length <= bytes.size(); length += 37) {
    const std::string input = bytes.substr(0, length);
    EXPECT_EQ(Base64Decode(Base64Encode(input)), input) << length;
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(input)), input) << length;
  }
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
}

TEST(Base64UrlTest, UsesUrlAlphabetWithoutPadding) {
  const std::string bytes = "\xfb\xff\xbf";
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST(Base64UrlTest, DecodesAndRejects) {
  EXPECT_EQ(Base64UrlDecode("-_-_"), "\xfb\xff\xbf");
  EXPECT_EQ(Base64UrlDecode("Zg"), "f");
  EXPECT_EQ(Base64UrlDecode("Zg=="), "f");
  EXPECT_EQ(Base64UrlDecode("+/+/"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("a.b"), std::nullopt);
}

TEST(HexTest, EncodesLowerCase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\x01\x7f\x80\xab\xff", 6)), "00017f80abff");
  EXPECT_EQ(HexEncode("Kalam"), "4b616c616d");
}

}  // namespace
}  // namespace kalam
