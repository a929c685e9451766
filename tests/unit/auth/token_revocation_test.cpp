// Which changes of a user revoke their tokens, and the rotation of refresh tokens.
#include <gtest/gtest.h>

#include "auth/refresh_families.h"
#include "catalog/models.h"

namespace kalam::auth {
namespace {

catalog::User Alice() {
  catalog::User user;
  user.user_id = "u_1";
  user.username = "alice";
  user.password_hash = "$2b$04$hash";
  return user;
}

TEST(TokenRevocationTest, PasswordRoleAndDropRevokeOtherChangesDoNot) {
  const catalog::User before = Alice();
  catalog::User after = before;
  after.email = "alice@example.com";
  after.last_seen = 42;
  after.refresh_families.push_back({"f", "j", 100});
  EXPECT_FALSE(catalog::RevokesTokens(before, after));

  after = before;
  after.password_hash = "$2b$04$other";
  EXPECT_TRUE(catalog::RevokesTokens(before, after));
  after = before;
  after.role = Role::kDba;
  EXPECT_TRUE(catalog::RevokesTokens(before, after));
  after = before;
  after.deleted_at = 1;
  EXPECT_TRUE(catalog::RevokesTokens(before, after));
}

TEST(TokenRevocationTest, RevokingRaisesTheVersionAndEndsEveryFamily) {
  catalog::User user = Alice();
  OpenFamily(user, "f1", "j1", 0, 100);
  user.RevokeTokens();
  EXPECT_EQ(user.token_version, 1);
  EXPECT_TRUE(user.refresh_families.empty());
}

TEST(RefreshFamiliesTest, OnlyTheNewestTokenOfAFamilyRefreshes) {
  catalog::User user = Alice();
  OpenFamily(user, "f1", "j1", 0, 100);
  OpenFamily(user, "f2", "k1", 0, 100);
  EXPECT_EQ(Rotate(user, "f1", "j1", "j2", 10, 110), Rotation::kRotated);
  EXPECT_EQ(Rotate(user, "f1", "j2", "j3", 20, 120), Rotation::kRotated);
  EXPECT_EQ(user.token_version, 0);
  EXPECT_EQ(Rotate(user, "f9", "j1", "x", 20, 120), Rotation::kUnknown);
  // j1 was rotated twice already: presenting it again revokes every token of the user,
  // the other family's too.
  EXPECT_EQ(Rotate(user, "f1", "j1", "j4", 30, 130), Rotation::kReused);
  EXPECT_EQ(user.token_version, 1);
  EXPECT_EQ(Rotate(user, "f1", "j3", "j5", 30, 130), Rotation::kUnknown);
  EXPECT_EQ(Rotate(user, "f2", "k1", "k2", 30, 130), Rotation::kUnknown);
}

TEST(RefreshFamiliesTest, ExpiredFamiliesAreDroppedAndTheCapHolds) {
  catalog::User user = Alice();
  OpenFamily(user, "old", "j", 0, 50);
  EXPECT_EQ(Rotate(user, "old", "j", "j2", 50, 150), Rotation::kUnknown);  // expired at 50
  EXPECT_TRUE(user.refresh_families.empty());

  for (size_t i = 0; i < kMaxRefreshFamilies; ++i) {
    OpenFamily(user, "f" + std::to_string(i), "j", 0, 1000 + static_cast<int64_t>(i));
  }
  OpenFamily(user, "newest", "j", 0, 5000);
  EXPECT_EQ(user.refresh_families.size(), kMaxRefreshFamilies);
  // The family closest to expiry went to make room.
  EXPECT_EQ(Rotate(user, "f0", "j", "j2", 1, 2000), Rotation::kUnknown);
  EXPECT_EQ(Rotate(user, "f1", "j", "j2", 1, 2000), Rotation::kRotated);
  EXPECT_EQ(Rotate(user, "newest", "j", "j2", 1, 6000), Rotation::kRotated);
}

}  // namespace
}  // namespace kalam::auth
