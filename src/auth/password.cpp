#include "auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <memory>

namespace kalam::auth {
namespace {

constexpr size_t kMinPasswordBytes = 8;
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

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return {Code::kInvalidSql, "password must be at least 8 bytes long"};
  }
  if (password.size() > kMaxPasswordBytes) {
    return {Code::kInvalidSql, "password must be at most 72 bytes long"};
  }
  if (HasNul(password)) {
    return {Code::kInvalidSql, "password must not contain a NUL byte"};
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
