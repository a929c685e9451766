#include "auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/encoding.h"

namespace kalam::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

// Base64url of HMAC-SHA256(secret, signing_input).
std::string Signature(std::string_view signing_input, std::string_view secret) {
  // A default string_view has a null data(); HMAC wants a valid pointer even for an empty key.
  static constexpr unsigned char kEmptyKey = 0;
  const void* key = secret.empty() ? &kEmptyKey : static_cast<const void*>(secret.data());
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
       mac.data(), &mac_size);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac_size));
}

// Parses base64url-encoded JSON that must be an object.
std::optional<json::object> DecodeObject(std::string_view encoded) {
  const std::optional<std::string> text = Base64UrlDecode(encoded);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<std::string> StringClaim(const json::object& payload, std::string_view name) {
  const json::value* value = payload.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string(value->as_string());
}

std::optional<int64_t> IntegerClaim(const json::object& payload, std::string_view name) {
  const json::value* value = payload.if_contains(name);
  if (value == nullptr || !value->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const auto number = value->to_number<int64_t>(ec);
  if (ec) return std::nullopt;
  return number;
}

Status InvalidToken(std::string message) { return {Code::kInvalidToken, std::move(message)}; }

}  // namespace

std::string SignToken(const TokenClaims& claims, std::string_view secret) {
  json::object payload{
      {"sub", claims.sub}, {"username", claims.username}, {"role", claims.role},
      {"typ", claims.typ}, {"iat", claims.iat},           {"exp", claims.exp},
      {"ver", claims.ver},
  };
  if (!claims.jti.empty()) payload["jti"] = claims.jti;
  if (!claims.fam.empty()) payload["fam"] = claims.fam;
  std::string token = Base64UrlEncode(kHeader);
  token += '.';
  token += Base64UrlEncode(json::serialize(payload));
  const std::string signature = Signature(token, secret);
  token += '.';
  token += signature;
  return token;
}

Result<TokenClaims> VerifyToken(std::string_view token, std::string_view secret, int64_t now_secs) {
  const size_t first_dot = token.find('.');
  const size_t last_dot = token.rfind('.');
  if (first_dot == std::string_view::npos || first_dot == last_dot) {
    return InvalidToken("token is not three dot-separated parts");
  }
  const std::string_view encoded_header = token.substr(0, first_dot);
  const std::string_view encoded_payload = token.substr(first_dot + 1, last_dot - first_dot - 1);
  const std::string_view signing_input = token.substr(0, last_dot);
  const std::string_view signature = token.substr(last_dot + 1);
  if (encoded_payload.find('.') != std::string_view::npos) {
    return InvalidToken("token is not three dot-separated parts");
  }

  // The algorithm is checked before the signature so "none" (or any other algorithm) can
  // never be accepted, whatever its signature part holds.
  const std::optional<json::object> header = DecodeObject(encoded_header);
  if (!header) return InvalidToken("token header is not base64url JSON");
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "HS256") {
    return InvalidToken("token algorithm must be HS256");
  }

  // Compared as base64url text: the encoding has one form per MAC, and the length of a
  // SHA-256 MAC is public.
  const std::string expected = Signature(signing_input, secret);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return InvalidToken("token signature does not match");
  }

  const std::optional<json::object> payload = DecodeObject(encoded_payload);
  if (!payload) return InvalidToken("token payload is not base64url JSON");
  std::optional<std::string> sub = StringClaim(*payload, "sub");
  std::optional<std::string> username = StringClaim(*payload, "username");
  std::optional<std::string> role = StringClaim(*payload, "role");
  std::optional<std::string> typ = StringClaim(*payload, "typ");
  const std::optional<int64_t> iat = IntegerClaim(*payload, "iat");
  const std::optional<int64_t> exp = IntegerClaim(*payload, "exp");
  const std::optional<int64_t> ver = IntegerClaim(*payload, "ver");
  if (!sub || !username || !role || !typ || !iat || !exp || !ver) {
    return InvalidToken("token lacks a claim (sub, username, role, typ, iat, exp, ver)");
  }
  // RFC 7519 §4.1.4: the token is not accepted on or after exp.
  if (now_secs >= *exp) return Status(Code::kTokenExpired, "token has expired");

  return TokenClaims{
      .sub = std::move(*sub),
      .username = std::move(*username),
      .role = std::move(*role),
      .typ = std::move(*typ),
      .iat = *iat,
      .exp = *exp,
      .ver = *ver,
      .jti = StringClaim(*payload, "jti").value_or(""),
      .fam = StringClaim(*payload, "fam").value_or(""),
  };
}

std::string RandomHex(size_t size) {
  std::string bytes(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1) {
    // No error path is declared, and a predictable secret or token id would let anyone forge
    // or replay tokens.
    std::fputs("kalamdb: OpenSSL could not produce random bytes\n", stderr);
    std::abort();
  }
  return HexEncode(bytes);
}

std::string GenerateSecret() { return RandomHex(32); }

}  // namespace kalam::auth
