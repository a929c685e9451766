#include "auth/refresh_families.h"

#include <algorithm>

namespace kalam::auth {
namespace {

void DropExpired(catalog::User& user, int64_t now) {
  std::erase_if(user.refresh_families,
                [now](const catalog::RefreshFamily& f) { return f.expires_at <= now; });
}

}  // namespace

void OpenFamily(catalog::User& user, const std::string& id, const std::string& jti, int64_t now,
                int64_t expires_at) {
  DropExpired(user, now);
  auto& families = user.refresh_families;
  while (families.size() >= kMaxRefreshFamilies) {
    families.erase(
        std::min_element(families.begin(), families.end(),
                         [](const auto& a, const auto& b) { return a.expires_at < b.expires_at; }));
  }
  families.push_back({id, jti, expires_at});
}

Rotation Rotate(catalog::User& user, const std::string& fam, const std::string& jti,
                const std::string& next_jti, int64_t now, int64_t expires_at) {
  DropExpired(user, now);
  auto family = std::find_if(user.refresh_families.begin(), user.refresh_families.end(),
                             [&](const catalog::RefreshFamily& f) { return f.id == fam; });
  if (family == user.refresh_families.end()) return Rotation::kUnknown;
  if (family->jti != jti) {
    user.RevokeTokens();
    return Rotation::kReused;
  }
  family->jti = next_jti;
  family->expires_at = expires_at;
  return Rotation::kRotated;
}

}  // namespace kalam::auth
