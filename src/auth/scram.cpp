#include "auth/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>

#include "common/encoding.h"

namespace kalam::auth {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kNonceBytes = 18;

std::string Hmac(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string Sha256(std::string_view bytes) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n));
  return bytes;
}

ScramVerifier Derive(std::string_view password, std::string salt, int iterations) {
  unsigned char salted[SHA256_DIGEST_LENGTH];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    iterations, EVP_sha256(), sizeof salted, salted);
  const std::string_view salted_password(reinterpret_cast<const char*>(salted), sizeof salted);
  ScramVerifier v;
  v.iterations = iterations;
  v.salt = std::move(salt);
  v.stored_key = Sha256(Hmac(salted_password, "Client Key"));
  v.server_key = Hmac(salted_password, "Server Key");
  return v;
}

// The value of attribute name ("r", "p", ...) in a comma-separated SCRAM message.
std::optional<std::string_view> Attribute(std::string_view message, char name) {
  size_t pos = 0;
  while (pos <= message.size()) {
    size_t end = message.find(',', pos);
    if (end == std::string_view::npos) end = message.size();
    const std::string_view part = message.substr(pos, end - pos);
    if (part.size() >= 2 && part[0] == name && part[1] == '=') return part.substr(2);
    pos = end + 1;
  }
  return std::nullopt;
}

Status Malformed(std::string_view what) {
  return {Code::kProtocol, "malformed SCRAM message: " + std::string(what)};
}

}  // namespace

std::string MakeScramVerifier(std::string_view password) {
  const ScramVerifier v = Derive(password, RandomBytes(kSaltBytes), kScramIterations);
  return "SCRAM-SHA-256$" + std::to_string(v.iterations) + ":" + Base64Encode(v.salt) + "$" +
         Base64Encode(v.stored_key) + ":" + Base64Encode(v.server_key);
}

std::optional<ScramVerifier> ParseScramVerifier(std::string_view text) {
  constexpr std::string_view kPrefix = "SCRAM-SHA-256$";
  if (!text.starts_with(kPrefix)) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  const size_t colon = text.find(':');
  const size_t dollar = text.find('$');
  const size_t colon2 = text.find(':', dollar == std::string_view::npos ? text.size() : dollar);
  if (colon == std::string_view::npos || dollar == std::string_view::npos || colon2 == std::string_view::npos ||
      colon > dollar) {
    return std::nullopt;
  }
  ScramVerifier v;
  auto [end, ec] = std::from_chars(text.data(), text.data() + colon, v.iterations);
  auto salt = Base64Decode(text.substr(colon + 1, dollar - colon - 1));
  auto stored = Base64Decode(text.substr(dollar + 1, colon2 - dollar - 1));
  auto server = Base64Decode(text.substr(colon2 + 1));
  if (ec != std::errc() || end != text.data() + colon || v.iterations < 1 || !salt || !stored || !server ||
      stored->size() != SHA256_DIGEST_LENGTH || server->size() != SHA256_DIGEST_LENGTH) {
    return std::nullopt;
  }
  v.salt = std::move(*salt);
  v.stored_key = std::move(*stored);
  v.server_key = std::move(*server);
  return v;
}

ScramVerifier MockScramVerifier(std::string_view username, std::string_view server_secret) {
  ScramVerifier v;
  v.salt = Hmac(server_secret, std::string("mock salt:") + std::string(username)).substr(0, kSaltBytes);
  v.stored_key = Hmac(server_secret, std::string("mock stored key:") + std::string(username));
  v.server_key = Hmac(server_secret, std::string("mock server key:") + std::string(username));
  return v;
}

Result<std::string> ScramExchange::Start(std::string_view client_first) {
  // gs2-header: "n,," (no channel binding) or "y,," (the client could bind but we offer
  // none), with an optional authzid between the commas, which Postgres ignores.
  if (client_first.size() < 3 || (client_first[0] != 'n' && client_first[0] != 'y') || client_first[1] != ',') {
    if (!client_first.empty() && client_first[0] == 'p') {
      return Status(Code::kProtocol, "SCRAM channel binding is not supported: no TLS");
    }
    return Malformed("client-first-message");
  }
  const size_t second_comma = client_first.find(',', 2);
  if (second_comma == std::string_view::npos) return Malformed("client-first-message");
  gs2_header_ = std::string(client_first.substr(0, second_comma + 1));
  client_first_bare_ = std::string(client_first.substr(second_comma + 1));
  if (client_first_bare_.starts_with("m=")) return Malformed("mandatory extensions are not supported");
  const auto client_nonce = Attribute(client_first_bare_, 'r');
  if (!client_nonce || client_nonce->empty()) return Malformed("no client nonce");
  nonce_ = std::string(*client_nonce) + Base64Encode(RandomBytes(kNonceBytes));
  server_first_ = "r=" + nonce_ + ",s=" + Base64Encode(verifier_.salt) + ",i=" + std::to_string(verifier_.iterations);
  return server_first_;
}

Result<std::string> ScramExchange::Finish(std::string_view client_final) {
  const size_t proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos) return Malformed("no proof");
  const std::string_view without_proof = client_final.substr(0, proof_at);
  const auto binding = Attribute(without_proof, 'c');
  const auto nonce = Attribute(without_proof, 'r');
  const auto proof = Base64Decode(client_final.substr(proof_at + 3));
  if (!binding || Base64Decode(*binding) != gs2_header_) return Malformed("channel binding does not match");
  if (!nonce || *nonce != nonce_) return Malformed("nonce does not match");
  if (!proof || proof->size() != SHA256_DIGEST_LENGTH) return Malformed("proof");
  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_signature = Hmac(verifier_.stored_key, auth_message);
  std::string client_key(SHA256_DIGEST_LENGTH, '\0');
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] = static_cast<char>((*proof)[i] ^ client_signature[i]);
  const std::string computed = Sha256(client_key);
  if (CRYPTO_memcmp(computed.data(), verifier_.stored_key.data(), computed.size()) != 0) {
    return Status(Code::kInvalidCredentials, "password authentication failed");
  }
  return "v=" + Base64Encode(Hmac(verifier_.server_key, auth_message));
}

}  // namespace kalam::auth
