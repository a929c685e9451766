#include "auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "common/text.h"

namespace kalam::auth {
namespace {

// The most common passwords of at least 8 characters in public breach lists, lower case:
// the first ones an attacker tries.
constexpr std::string_view kCommonPasswords[] = {
    "password", "12345678", "123456789", "1234567890", "password1", "password123",
    "qwertyuiop", "qwerty123", "11111111", "00000000", "iloveyou", "sunshine", "princess",
    "football", "baseball", "welcome1", "admin123", "administrator", "letmein1", "passw0rd",
    "p@ssw0rd", "abc12345", "12341234", "87654321", "1q2w3e4r", "qwertyui", "asdfghjk",
    "zaq12wsx", "changeme", "trustno1", "superman", "whatever", "starwars", "dragon123",
    "monkey123", "computer", "internet", "michael1", "jennifer", "123123123", "1qaz2wsx",
    "aaaaaaaa", "q1w2e3r4", "qwerty12", "987654321", "access14", "master123", "secret123",
    "kalamdb1", "kalamdb123", "rootroot", "root1234", "password!", "welcome123"};
constexpr size_t kMaxPasswordBytes = 72;  // bcrypt ignores everything after byte 72
constexpr int kMinCost = 4;
constexpr int kMaxCost = 31;
constexpr size_t kSaltBytes = 16;

// A password goes to libcrypt as a C string, so a NUL would silently cut it short.
bool HasNul(std::string_view password) { return password.find('\0') != std::string_view::npos; }

bool IsBcryptHash(std::string_view hash) {
  return hash.starts_with("$2b$") || hash.starts_with("$2a$") || hash.starts_with("$2y$");
}

}  // namespace

Status ValidatePassword(std::string_view password, size_t min_length) {
  min_length = std::clamp<size_t>(min_length, 1, kMaxPasswordBytes);
  if (password.size() < min_length) {
    return {Code::kInvalidSql,
            "password must be at least " + std::to_string(min_length) + " bytes long"};
  }
  if (password.size() > kMaxPasswordBytes) {
    return {Code::kInvalidSql, "password must be at most 72 bytes long"};
  }
  if (HasNul(password)) {
    return {Code::kInvalidSql, "password must not contain a NUL byte"};
  }
  if (Trim(password).empty()) {
    return {Code::kInvalidSql, "password must not be only whitespace"};
  }
  const std::string folded = Lower(password);
  if (std::find(std::begin(kCommonPasswords), std::end(kCommonPasswords), folded) !=
      std::end(kCommonPasswords)) {
    return {Code::kInvalidSql, "password is one of the most common passwords: choose another"};
  }
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password, int cost) {
  if (cost < kMinCost || cost > kMaxCost) {
    return {Code::kInvalidInput, "bcrypt cost must be between 4 and 31"};
  }
  if (HasNul(password)) {
    return {Code::kInvalidInput, "password must not contain a NUL byte"};
  }

  std::array<unsigned char, kSaltBytes> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return {Code::kInternalError, "no random bytes for a password salt"};
  }
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost),
                       reinterpret_cast<const char*>(random.data()),
                       static_cast<int>(random.size()), setting.data(),
                       static_cast<int>(setting.size())) == nullptr) {
    return {Code::kInternalError, "libcrypt could not make a bcrypt salt"};
  }

  // crypt_data is ~32 KB: keep it off the stack. make_unique value-initializes, which zeroes
  // the `initialized` field as libcrypt requires.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  if (crypt_rn(phrase.c_str(), setting.data(), data.get(), sizeof(crypt_data)) == nullptr) {
    return {Code::kInternalError, "libcrypt could not hash the password"};
  }
  return std::string(data->output);
}

bool VerifyPassword(std::string_view password, const std::string& hash) {
  if (HasNul(password) || !IsBcryptHash(hash)) return false;

  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  if (crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data)) == nullptr) {
    return false;
  }
  // The length of a bcrypt hash is public; only the bytes are compared in constant time.
  const size_t length = std::strlen(data->output);
  return length == hash.size() && CRYPTO_memcmp(data->output, hash.data(), length) == 0;
}

}  // namespace kalam::auth
