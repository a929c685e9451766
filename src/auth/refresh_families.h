// Refresh tokens rotate. A login opens a family (one session) with its first refresh token;
// each refresh replaces the family's token with a new one (a new jti), and only the newest
// token of a family refreshes. An older one presented again was copied — one party used it
// after the other had — so every token of the user is revoked: the thief's and the owner's
// sessions end alike, and the owner signs in again.
//
// The families are kept with the user in the catalog (catalog::User::refresh_families), so
// they survive a restart; a user has at most kMaxRefreshFamilies, expired ones are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "catalog/models.h"

namespace kalam::auth {

inline constexpr size_t kMaxRefreshFamilies = 32;

// Adds the family id to user with its first token jti, expiring at expires_at. Families
// expired by now go; past the cap, so does the one closest to expiry (its session must
// sign in again once its access token expires).
void OpenFamily(catalog::User& user, const std::string& id, const std::string& jti, int64_t now,
                int64_t expires_at);

enum class Rotation {
  kRotated,  // the family's newest token is now next_jti
  kUnknown,  // no such family: expired, dropped past the cap, or revoked with the others
  kReused,   // jti was rotated already: every token of the user is revoked
};

// A refresh of family fam by its token jti, at now.
Rotation Rotate(catalog::User& user, const std::string& fam, const std::string& jti,
                const std::string& next_jti, int64_t now, int64_t expires_at);

}  // namespace kalam::auth
