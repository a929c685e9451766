// Roles: user < service < dba < system.
#pragma once

#include <optional>
#include <string_view>

namespace kalam::auth {

enum class Role { kUser = 0, kService = 1, kDba = 2, kSystem = 3 };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);  // exact lower-case names

// dba and system manage users and read every system table.
inline bool IsAdmin(Role role) { return role >= Role::kDba; }
// service and above run DDL on namespaces and tables.
inline bool MayRunDdl(Role role) { return role >= Role::kService; }

}  // namespace kalam::auth
