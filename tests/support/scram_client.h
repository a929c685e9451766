// The client's side of SCRAM-SHA-256 (RFC 5802), written from the RFC for the tests, so
// the server's side is checked against an implementation other than its own. Header-only,
// OpenSSL's HMAC, SHA-256, PBKDF2 and base64.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <string>

namespace kalam::testing {

inline std::string ScramHmac(const std::string& key, const std::string& message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

inline std::string ScramSha256(const std::string& bytes) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

inline std::string ScramBase64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

inline std::string ScramUnbase64(const std::string& text) {
  std::string out(3 * text.size() / 4 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)) - static_cast<size_t>(std::count(text.begin(), text.end(), '=')));
  return out;
}

// Attribute name of a SCRAM message ("r=...,s=...,i=...").
inline std::string ScramField(const std::string& message, char name) {
  const std::string key = std::string(1, name) + "=";
  size_t at = message.starts_with(key) ? 0 : message.find("," + key);
  if (at == std::string::npos) return "";
  at += at == 0 ? 2 : 3;
  return message.substr(at, message.find(',', at) - at);
}

struct ScramFinal {
  std::string message;           // client-final-message, with the proof
  std::string server_signature;  // what the server's "v=" must carry
};

// The answer to server_first for password, after client_first_bare ("n=,r=<nonce>").
inline ScramFinal ScramClientFinal(const std::string& password, const std::string& client_first_bare,
                                   const std::string& server_first) {
  const std::string salt = ScramUnbase64(ScramField(server_first, 's'));
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    std::stoi(ScramField(server_first, 'i')), EVP_sha256(), sizeof salted, salted);
  const std::string salted_password(reinterpret_cast<const char*>(salted), sizeof salted);
  const std::string without_proof = "c=biws,r=" + ScramField(server_first, 'r');
  const std::string auth_message = client_first_bare + "," + server_first + "," + without_proof;
  const std::string client_key = ScramHmac(salted_password, "Client Key");
  const std::string signature = ScramHmac(ScramSha256(client_key), auth_message);
  std::string proof = client_key;
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ signature[i]);
  return {without_proof + ",p=" + ScramBase64(proof),
          ScramBase64(ScramHmac(ScramHmac(salted_password, "Server Key"), auth_message))};
}

}  // namespace kalam::testing
